import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { AgentActivities } from '../activities/agent';
import type { AgentTaskInput, AgentTaskOutput, LLMUsage } from '../src/contracts/agent-task';
import type { ParsedTaskInput } from '../src/contracts/task-input';
import { agentTaskQueue } from '../src/contracts/task-queues';

const agent = proxyActivities<AgentActivities>({ startToCloseTimeout: '30 minutes' });

/** The activity's heartbeat is how a dead agent is noticed mid-call; agents beat every 5 s. */
export const HEARTBEAT_TIMEOUT = '20s';

/**
 * A task's work on one agent, one activity per call on the agent's own
 * queue: LLM call → the tool calls it asks for → LLM call … until the model
 * answers without tools, the manifest's step limit is reached, or the
 * budget is spent. Each completed call is in history, so a crash resumes
 * after it; the agent stores every answer as it gets it, so a call retried
 * after a crash mid-way returns that answer instead of paying for it again.
 */
export async function toolLoop(
  agentId: string,
  task: AgentTaskInput,
  input: ParsedTaskInput,
  remainingMs: number,
): Promise<AgentTaskOutput> {
  const options = (summary: string): ActivityOptions => ({
    taskQueue: agentTaskQueue(agentId),
    scheduleToStartTimeout: `${input.pickup_timeout_secs}s`,
    startToCloseTimeout: remainingMs,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    // The agent may die mid-call: its restart (or the pickup timeout) decides; invalid input never passes.
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidInput'] },
    summary: summary.slice(0, 200),
  });
  const begun = await agent.beginTask.executeWithOptions(options(`${input.role} ${agentId}: ${input.title}`), [task]);
  const usage: LLMUsage[] = [];
  let stopped: 'max-steps' | 'budget' | undefined;
  let step = 1;
  for (; ; step++) {
    const answer = await agent.callModel.executeWithOptions(options(`LLM call ${step}`), [{ ...task, step }]);
    usage.push(answer.usage);
    if (!answer.tool_calls.length) break;
    if (step >= begun.max_steps) stopped = 'max-steps';
    else if (input.budget_usd !== undefined && usage.reduce((n, u) => n + u.cost_usd, 0) >= input.budget_usd)
      stopped = 'budget';
    if (stopped) break;
    for (const call of answer.tool_calls)
      await agent.callTool.executeWithOptions(options(call.summary), [{ ...task, step, call_id: call.id }]);
  }
  return agent.finishTask.executeWithOptions(options(`store the result of ${input.title}`), [
    { ...task, steps: step, usage, stopped },
  ]);
}
