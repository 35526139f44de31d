import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { AgentActivities } from '../activities/agent';
import type { AgentTaskInput, AgentTaskOutput } from '../src/contracts/agent-task';
import type { ParsedTaskInput } from '../src/contracts/task-input';
import { agentTaskQueue } from '../src/contracts/task-queues';

const agent = proxyActivities<AgentActivities>({ startToCloseTimeout: '30 minutes' });

/** The activity's heartbeat is how a dead agent is noticed mid-call; agents beat every 5 s. */
export const HEARTBEAT_TIMEOUT = '20s';

/**
 * A task's work on one agent, one activity per call on the agent's own
 * queue: LLM call → the tool calls it asks for → LLM call … until the model
 * answers without tools, the manifest's step limit is reached, or the
 * budget is spent; the LLM call that ends it returns the task's output (a
 * task without tools is one activity). Each completed call is in history, so a crash resumes
 * after it; the agent stores every answer as it gets it, so a call retried
 * after a crash mid-way returns that answer instead of paying for it again.
 */
export async function toolLoop(
  agentId: string,
  task: AgentTaskInput,
  input: ParsedTaskInput,
  remainingMs: number,
  /** When given, each call (its retries too) ends by then: the task's deadline, kept without a timer of its own. */
  deadlineAt?: number,
): Promise<AgentTaskOutput> {
  const options = (summary: string): ActivityOptions => ({
    taskQueue: agentTaskQueue(agentId),
    scheduleToStartTimeout: `${input.pickup_timeout_secs}s`,
    startToCloseTimeout: deadlineAt === undefined ? remainingMs : Math.max(1, deadlineAt - Date.now()),
    ...(deadlineAt !== undefined && { scheduleToCloseTimeout: Math.max(1, deadlineAt - Date.now()) }),
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    // The agent may die mid-call: its restart (or the pickup timeout) decides; invalid input never passes.
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidInput'] },
    summary: summary.slice(0, 200),
  });
  let spent = 0;
  for (let step = 1; ; step++) {
    const summary = step === 1 ? `${input.role} ${agentId}: ${input.title}` : `LLM call ${step}`;
    const budget_usd = input.budget_usd === undefined ? undefined : input.budget_usd - spent;
    const answer = await agent.callModel.executeWithOptions(options(summary), [{ ...task, step, budget_usd }]);
    if ('output' in answer) return answer.output;
    spent += answer.usage.cost_usd;
    for (const call of answer.tool_calls)
      await agent.callTool.executeWithOptions(options(call.summary), [{ ...task, step, call_id: call.id }]);
  }
}
