import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { EventBus } from '../src/bus/event-bus';
import type { Logger } from '../src/logger';
import type { AgentSpec } from '../src/contracts/agent-spec';
import type {
  AgentTaskInput,
  AgentTaskOutput,
  ModelCallInput,
  ModelCallOutput,
  ToolCallInput,
  ToolCallOutput,
} from '../src/contracts/agent-task';
import type { Progress, TaskExecutor } from '../src/agent/task-executor';

/** Well inside the task workflow's heartbeat timeout (HEARTBEAT_TIMEOUT in workflows/task.ts). */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * How long a line of the task's own doing (reading inputs, storing the result) must stay current to be announced:
 * most end sooner, and they were three of a quick task's seven JetStream publishes.
 */
const PROGRESS_AFTER_MS = 1_000;

/** Whether the server ran this call before: only then can an earlier run have stored part of it. */
const retried = () => Context.current().info.attempt > 1;

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

/** Activities served on the agent's own task queue (`agent-<agentId>`): the steps of a task's tool loop. */
export function createAgentActivities(
  spec: AgentSpec,
  meter: LoadMeter,
  executor: TaskExecutor,
  bus: EventBus,
  log: Pick<Logger, 'warn'>,
) {
  /**
   * Runs one step of a task; a progress line is a TaskProgress event
   * (deduplicated per attempt and line), at once or, if the executor says so,
   * only once it has lasted PROGRESS_AFTER_MS.
   * The activity heartbeats throughout, even during a long LLM call, so only
   * a dead agent misses its heartbeat timeout. The first beat comes after
   * HEARTBEAT_EVERY_MS, with the latest progress: each beat the server gets
   * is a write to the task's workflow, and most steps end well before one is
   * due.
   */
  async function acting<I extends AgentTaskInput, O>(input: I, work: (i: I, progress: Progress) => Promise<O>) {
    const context = Context.current();
    let last = { percent: 0, step: 'starting' };
    const beating = setInterval(() => context.heartbeat(last), HEARTBEAT_EVERY_MS);
    let held: NodeJS.Timeout | undefined;
    const announce = (percent: number, step: string) =>
      bus.publish(
        {
          type: 'TaskProgress',
          task_id: input.task.task_id,
          agent_id: spec.agent_id,
          progress_percent: percent,
          current_step: step,
        },
        `${input.task.task_id}/progress/${input.attempt}/${createHash('sha1').update(step).digest('hex').slice(0, 16)}`,
      );
    try {
      return await meter.track(() =>
        work(input, async (percent, step, when = 'now') => {
          last = { percent, step };
          clearTimeout(held);
          if (when === 'now') {
            await announce(percent, step);
            return;
          }
          held = setTimeout(
            () =>
              void announce(percent, step).catch((error: unknown) =>
                log.warn('progress not published', { task_id: input.task.task_id, step, error: String(error) }),
              ),
            PROGRESS_AFTER_MS,
          );
        }),
      );
    } finally {
      clearTimeout(held);
      clearInterval(beating);
    }
  }

  return {
    /** Which process answers on this queue: proof that the queue is served by the agent it names. */
    async identify(): Promise<{ agentId: string; role: string; pid: number; load: number }> {
      return meter.track(async () => ({ agentId: spec.agent_id, role: spec.role, pid: process.pid, load: meter.load }));
    },
    async callModel(input: ModelCallInput): Promise<ModelCallOutput> {
      return acting(input, (i, p) => executor.callModel(i, p, retried()));
    },
    async callTool(input: ToolCallInput): Promise<ToolCallOutput> {
      return acting(input, (i, p) => executor.callTool(i, p));
    },
    /** The whole task in one activity: what runs started before the tool loop still schedule. */
    async executeTask(input: AgentTaskInput): Promise<AgentTaskOutput> {
      return acting(input, (i, p) => executor.execute(i, p, retried()));
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;
