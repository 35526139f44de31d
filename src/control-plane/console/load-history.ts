import type { AgentMetadata } from '../../domain';

/** How many samples each role keeps: five minutes at one sample every five seconds. */
const SAMPLES = 60;

/**
 * Each role's load over the last minutes, for the fleet page's sparklines:
 * running tasks over the capacity of its agents, sampled from the registry
 * by the control plane (the page itself never polls).
 */
export class LoadHistory {
  private readonly byRole = new Map<string, number[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly agents: () => Promise<AgentMetadata[]>,
    intervalMs = 5_000,
  ) {
    this.timer = setInterval(() => void this.sample().catch(() => undefined), intervalMs).unref();
  }

  async sample(): Promise<void> {
    const totals = new Map<string, { running: number; capacity: number }>();
    for (const a of await this.agents()) {
      const t = totals.get(a.role) ?? { running: 0, capacity: 0 };
      t.running += a.current_tasks;
      t.capacity += a.max_concurrent_tasks;
      totals.set(a.role, t);
    }
    for (const [role, { running, capacity }] of totals) {
      const series = this.byRole.get(role) ?? [];
      series.push(capacity ? running / capacity : 0);
      this.byRole.set(role, series.slice(-SAMPLES));
    }
  }

  of(role: string): number[] {
    return this.byRole.get(role) ?? [];
  }

  close(): void {
    clearInterval(this.timer);
  }
}
