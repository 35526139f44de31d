import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededRandom } from './seeded-random';
import { stackProcesses, type StackProcess } from './stack-processes';

/** The servers `vapora up` supervises; every other process of the stack is an agent. */
const SERVERS = ['control-plane', 'nats', 'temporal'] as const;

/**
 * kill -9's a random process of the stack (each as likely: the control
 * plane, nats-server, the Temporal dev server, any agent) at random
 * intervals around `everySecs` (half to one and a half times), drawn from
 * `random`, until stopped.
 */
export class Killer {
  readonly killed: (StackProcess & { atMs: number })[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    stateDir: string,
    everySecs: number,
    random: SeededRandom,
    say: (line: string) => void,
    startedAt = Date.now(),
  ) {
    this.done = (async () => {
      while (this.running) {
        await sleep(random.between(0.5, 1.5) * everySecs * 1000);
        if (!this.running) return;
        // Sorted, so the same seed picks the same one whatever order the records are read in.
        const candidates = stackProcesses(stateDir).sort((a, b) => a.name.localeCompare(b.name));
        const target = candidates[Math.floor(random.next() * candidates.length)];
        if (!target) continue;
        try {
          process.kill(target.pid, 'SIGKILL');
          this.killed.push({ ...target, atMs: Date.now() - startedAt });
          say(`kill -9 ${target.name} (pid ${target.pid})`);
        } catch {
          // gone already
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Kills per target kind, for the report. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { name } of this.killed) {
      const kind = (SERVERS as readonly string[]).includes(name) ? name : 'agent';
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return counts;
  }
}
