import { Context } from '@temporalio/activity';
import type { EventBus } from '../src/bus/event-bus';
import type { AgentSpec } from '../src/contracts/agent-spec';
import type { AgentTaskInput, AgentTaskOutput } from '../src/contracts/agent-task';
import type { TaskExecutor } from '../src/agent/task-executor';

/** Well inside the task workflow's heartbeat timeout (HEARTBEAT_TIMEOUT in workflows/task.ts). */
const HEARTBEAT_EVERY_MS = 5_000;

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

    /**
     * Runs a task; each progress step is a TaskProgress event (deduplicated per
     * attempt and step) and the activity heartbeats throughout, even during a
     * long LLM call, so only a dead agent misses its heartbeat timeout.
     */
    async executeTask(input: AgentTaskInput): Promise<AgentTaskOutput> {
      const context = Context.current();
      let last = { percent: 0, step: 'starting' };
      const beating = setInterval(() => context.heartbeat(last), HEARTBEAT_EVERY_MS);
      try {
        return await meter.track(() =>
          executor.execute(input, async (percent, step) => {
            last = { percent, step };
            context.heartbeat(last);
            await bus.publish(
              {
                type: 'TaskProgress',
                task_id: input.task.task_id,
                agent_id: spec.agent_id,
                progress_percent: percent,
                current_step: step,
              },
              `${input.task.task_id}/progress/${input.attempt}/${percent}`,
            );
          }),
        );
      } finally {
        clearInterval(beating);
      }
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;
