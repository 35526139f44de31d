import type { Subscription } from 'nats';
import { SUBJECTS, statusLabel, subjectsOf } from '../domain';
import type { EventBus } from '../bus/event-bus';
import type { RegistryStore } from '../registry/registry-store';
import { chooseAgent, type AssignmentRequest, type Candidate } from './assignment';

type Entry = Candidate & { active: boolean; heartbeatSecs: number; lastBeat?: number };

/** A heartbeat older than this many intervals means the agent cannot be trusted with new work. */
const STALE_BEATS = 3;

/**
 * The control plane's in-memory picture of who can take work, so assigning a
 * task costs no database or network round trip: loaded from the registry,
 * kept current by heartbeats and status changes on NATS, refreshed now and then.
 */
export class FleetView {
  private readonly agents = new Map<string, Entry>();
  private readonly subscriptions: Subscription[] = [];
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly registry: RegistryStore,
    bus: EventBus,
    refreshMs: number,
  ) {
    this.subscriptions.push(
      bus.subscribe(subjectsOf('Heartbeat'), (m) => {
        const entry = m.type === 'Heartbeat' && this.agents.get(m.agent_id);
        if (entry) Object.assign(entry, { load: m.load, lastBeat: Date.now(), active: m.status === 'Active' });
      }),
      bus.subscribe(SUBJECTS.AgentStatusChanged, () => this.refresh()),
    );
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), refreshMs).unref();
  }

  static async open(registry: RegistryStore, bus: EventBus, refreshMs = 5_000): Promise<FleetView> {
    const view = new FleetView(registry, bus, refreshMs);
    await view.refresh();
    return view;
  }

  async refresh(): Promise<void> {
    const [agents, instances] = await Promise.all([this.registry.agents.list(), this.registry.instances.list()]);
    const stats = new Map(instances.map((i) => [i.agent_id, i]));
    const seen = new Set<string>();
    for (const a of agents) {
      seen.add(a.id);
      const previous = this.agents.get(a.id);
      this.agents.set(a.id, {
        agentId: a.id,
        role: a.role,
        capabilities: a.capabilities.map((c) => c.id),
        capacity: a.max_concurrent_tasks,
        reserved: previous?.reserved ?? 0,
        load: previous?.load ?? 0,
        completed: stats.get(a.id)?.tasks_completed ?? 0,
        failed: stats.get(a.id)?.tasks_failed ?? 0,
        active: statusLabel(a.status) === 'Active' && stats.has(a.id),
        heartbeatSecs: a.health_check.interval_secs,
        lastBeat: previous?.lastBeat,
      });
    }
    for (const id of this.agents.keys()) if (!seen.has(id)) this.agents.delete(id);
  }

  /** Picks an agent and reserves one of its slots; see chooseAgent for the rule. */
  assign(request: AssignmentRequest, now = Date.now()): Candidate | undefined {
    const healthy = [...this.agents.values()].filter(
      (a) => a.active && (a.lastBeat === undefined || now - a.lastBeat < STALE_BEATS * a.heartbeatSecs * 1000),
    );
    const chosen = chooseAgent(healthy, request);
    if (chosen) chosen.reserved++;
    return chosen && { ...chosen };
  }

  /** A task handed to `agentId` ended: its slot is free again and its record counts the outcome. */
  release(agentId: string, succeeded: boolean): void {
    const entry = this.agents.get(agentId);
    if (!entry) return;
    entry.reserved = Math.max(0, entry.reserved - 1);
    if (succeeded) entry.completed++;
    else entry.failed++;
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
  }
}
