import { Context } from '@temporalio/activity';
import type { EventBus } from '../src/bus/event-bus';
import type { AgentSpec } from '../src/fleet/agent-spec';
import type { AgentTaskInput, AgentTaskOutput, TaskExecutor } from '../src/work/task-executor';

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
export function createAgentActivities(spec: AgentSpec, meter: LoadMeter, executor: TaskExecutor, bus: EventBus) {
  return {
    /** Which process answers on this queue: proof that the queue is served by the agent it names. */
    async identify(): Promise<{ agentId: string; role: string; pid: number; load: number }> {
      return meter.track(async () => ({ agentId: spec.agent_id, role: spec.role, pid: process.pid, load: meter.load }));
    },

    /** Runs a task; each progress step is an activity heartbeat and a TaskProgress event (deduplicated per attempt and step). */
    async executeTask(input: AgentTaskInput): Promise<AgentTaskOutput> {
      const context = Context.current();
      return meter.track(() =>
        executor.execute(input, async (percent, step) => {
          context.heartbeat({ percent, step });
          await bus.publish(
            { type: 'TaskProgress', task_id: input.task.task_id, agent_id: spec.agent_id, progress_percent: percent, current_step: step },
            `${input.task.task_id}/progress/${input.attempt}/${percent}`,
          );
        }),
      );
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;
