import type { AgentSpec } from '../src/fleet/agent-spec';

/** Counts activities running on this agent, so heartbeats and /health report its load. */
export class LoadMeter {
  running = 0;
  constructor(readonly capacity: number) {}

  get load(): number {
    return Math.min(1, this.running / this.capacity);
  }

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
    }
  }
}

/** Activities served on the agent's own task queue (`agent-<agentId>`). */
export function createAgentActivities(spec: AgentSpec, meter: LoadMeter) {
  return {
    /** Which process answers on this queue: proof that the queue is served by the agent it names. */
    async identify(): Promise<{ agentId: string; role: string; pid: number; load: number }> {
      return meter.track(async () => ({ agentId: spec.agent_id, role: spec.role, pid: process.pid, load: meter.load }));
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;
