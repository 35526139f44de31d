import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType, type SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities';
import type { AgentActivities } from '../activities/agent';
import type { TaskContext } from '../src/domain';
import { agentTaskQueue } from '../src/contracts/task-queues';
import { failureMessage } from '../src/temporal/failure-message';
import {
  VaporaAgentId,
  VaporaCost,
  VaporaFeatureId,
  VaporaRole,
  VaporaStatus,
} from '../src/temporal/search-attributes';
import type { DecisionRequest } from '../src/control-plane/decision-service';
import type { ParsedTaskInput, TaskInput, TaskOutcome } from '../src/contracts/task-input';
import { taskApprovalRequired } from '../src/contracts/approval-required';
import type { AgentTaskOutput } from '../src/contracts/agent-task';
import { ApprovalGate, type Verdict } from './approval-gate';
import { taskStatusQuery } from '../src/contracts/messages';
import { escalateToDecisionMaker } from './escalation';
import { validateInput } from './validate-input';
import { taskIdOf, taskWorkflowId } from '../src/contracts/workflow-ids';
import { taskContextOf } from '../src/contracts/task-context';
import { HEARTBEAT_TIMEOUT, toolLoop } from './tool-loop';
import { WakeUp } from './wake-up';
import { applies } from './patches';
import { dispatched } from '../src/contracts/dispatched';

// Assignment and task records are local activities: short calls into the control plane's
// memory, SurrealDB and NATS that need no extra round trip through the server.
const { assignTask, askForAgent, recordTask } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumInterval: '5s' },
});
const agent = proxyActivities<AgentActivities>({ startToCloseTimeout: '30 minutes' });
const MAX_ESCALATIONS = 2;
/**
 * Runs begun before upserted every search attribute it set, one upsert each
 * (each a visibility write), and raced each run against a deadline timer; now
 * only what changed is upserted, together, and the activities' own timeouts
 * keep the deadline.
 */
const LEAN = 'task-lean-attributes-and-deadline';
const GIVE_UP_BY_TIMER = 'assignment-gives-up-by-timer';
const TIMED_BY_ASKS = 'assignment-timed-by-its-asks';

type Run = { output: AgentTaskOutput } | { error: string } | { deadline: true };
type DecisionType = DecisionRequest['decision_type'];

/**
 * One task (`task-<id>`): assign it to the best healthy agent of its role,
 * run it on that agent's own queue under a durable deadline, reassign when
 * the agent dies or fails, and escalate to the DecisionMaker when retries
 * run out or the deadline passes. Publishes the task events through the
 * control plane, each once.
 */
export async function taskWorkflow(raw: TaskInput): Promise<TaskOutcome> {
  const input = await validateInput('taskWorkflow', raw);
  const taskId = input.task_id ?? taskIdOf(workflowInfo().workflowId);
  const task = taskContextOf(taskId, input);
  const state: TaskOutcome = {
    task_id: taskId,
    role: input.role,
    title: input.title,
    status: 'pending',
    attempts: [],
    decisions: [],
    tokens: 0,
    cost_usd: 0,
    usage: [],
  };
  const gate = new ApprovalGate();
  const wakeUp = new WakeUp();
  state.approvals = gate.received;
  setHandler(taskStatusQuery, () => ({ ...state, pending_approval: gate.answerable }));
  const lean = applies(LEAN);
  const initial = [
    { key: VaporaRole, value: input.role },
    // A dispatched task starts with its status (and agent) set.
    { key: VaporaStatus, value: (lean && workflowInfo().typedSearchAttributes.get(VaporaStatus)) || 'pending' },
    ...(input.feature_id ? [{ key: VaporaFeatureId, value: input.feature_id }] : []),
  ];
  if (lean) upsertChanged(initial);
  else upsertSearchAttributes(initial);

  const createdAt = workflowInfo().startTime.toISOString();
  let deadlineAt = Date.now() + input.deadline_secs * 1000;
  const exclude: string[] = [];
  let attempt = 0;
  let failuresSinceDecision = 0;

  const record = (
    status: TaskOutcome['status'],
    extra: Partial<Parameters<Activities['recordTask']>[0]> = {},
    also: SearchAttributeUpdatePair[] = [],
  ) => {
    state.status = status;
    const pairs = [...also, { key: VaporaStatus, value: status }];
    // The cost goes with the status it ends in (runs begun before upserted it as it came).
    if (lean) upsertChanged(state.cost_usd > 0 ? [{ key: VaporaCost, value: state.cost_usd }, ...pairs] : pairs);
    else pairs.forEach((pair) => upsertSearchAttributes([pair]));
    return recordTask({
      task_id: taskId,
      feature_id: input.feature_id,
      role: input.role,
      title: input.title,
      priority: input.priority,
      deadline: new Date(deadlineAt).toISOString(),
      created_at: createdAt,
      status,
      attempt,
      agent_id: state.agent_id,
      ...extra,
    });
  };

  /** Asks the DecisionMaker; a person's approval (when it hands over) means try again. */
  const decide = async (type: DecisionType, context: string, preferred: string[]) => {
    await record('escalated');
    // The last escalation allowed may only hand over to a person or stop: no endless retry loops.
    const options =
      state.decisions.length + 1 >= MAX_ESCALATIONS
        ? preferred.filter((o) => o === 'ask_human' || o === 'abort')
        : preferred;
    const request = {
      id: `${taskId}-d${state.decisions.length + 1}`,
      decision_type: type,
      context,
      options,
      from: taskWorkflowId(taskId),
      task_id: taskId,
      feature_id: input.feature_id,
    };
    const decision = await escalateToDecisionMaker(request, gate, input.approval_timeout_secs * 1000, (d) =>
      state.decisions.push({ id: d.id, decision_type: d.decision_type, decision: d.decision, made_by: d.made_by }),
    );
    return decision === 'approved' ? (type === 'approval_timeout' ? 'approve' : 'retry') : decision;
  };

  const fail = async (error: string): Promise<never> => {
    state.error = error;
    setCurrentDetails(`failed: ${error}`);
    await record('failed', { error });
    throw ApplicationFailure.nonRetryable(`task ${taskId} failed: ${error}`, 'TaskFailed', state);
  };

  for (;;) {
    attempt++;
    setCurrentDetails(`attempt ${attempt}: finding a ${input.role} agent`);
    const agentId =
      attempt === 1 && input.assigned_agent
        ? input.assigned_agent
        : await assign(task, attempt, exclude, deadlineAt, input, wakeUp);
    let decision: string | undefined;
    if (!agentId) {
      decision = await decide(
        'no_agent',
        `no healthy ${input.role} agent with spare capacity for ${input.assignment_timeout_secs}s`,
        ['retry', 'ask_human', 'abort'],
      );
    } else {
      state.agent_id = agentId;
      // The dispatcher recorded the first attempt it assigned, with its search attributes, as it started the run.
      if (attempt === 1 && input.assigned_agent && dispatched(workflowInfo().memo)) state.status = 'running';
      else await record('running', {}, [{ key: VaporaAgentId, value: agentId }]);
      setCurrentDetails(`attempt ${attempt}: running on ${agentId}`);
      const run = await runOn(agentId, task, attempt, deadlineAt, input, lean);
      if ('output' in run) {
        const { output } = run;
        state.usage.push(output.usage);
        state.tokens += output.usage.input_tokens + output.usage.output_tokens;
        state.cost_usd += output.usage.cost_usd;
        if (!lean) upsertSearchAttributes([{ key: VaporaCost, value: state.cost_usd }]);
        state.attempts.push({ attempt, agent_id: agentId, outcome: 'completed' });
        const verdict = taskApprovalRequired(input) ? await approve(gate, taskId, input) : { kind: 'approve' as const };
        const approved =
          verdict.kind === 'approve' ||
          (verdict.kind === 'timeout' &&
            (await decide('approval_timeout', `nobody approved ${input.title} in ${input.approval_timeout_secs}s`, [
              'abort',
              'approve',
            ])) === 'approve');
        if (approved) {
          state.result = output.result;
          await record('completed', { result: output.result, usage: output.usage, duration_ms: output.duration_ms });
          setCurrentDetails(`completed by ${agentId}: ${output.result.summary.slice(0, 120)}`);
          return state;
        }
        if (verdict.kind !== 'reject') return fail('nobody approved it in time');
        // A person rejected the result: the same task again, with the reason.
        const reason = `${verdict.text} (${verdict.by})`;
        task.description = `${task.description}\n\nRework requested: ${reason}`;
        await record('failed', { error: `rework requested: ${reason}`, usage: output.usage });
        continue;
      }
      const error = 'deadline' in run ? `deadline of ${input.deadline_secs}s passed` : run.error;
      state.attempts.push({ attempt, agent_id: agentId, outcome: 'deadline' in run ? 'deadline' : 'failed', error });
      exclude.push(agentId);
      await record('failed', { error });
      failuresSinceDecision++;
      if ('deadline' in run) {
        decision = await decide('deadline_missed', `${input.title}: ${error} on attempt ${attempt}`, [
          'reassign',
          'retry',
          'ask_human',
          'abort',
        ]);
      } else if (failuresSinceDecision >= input.max_attempts) {
        decision = await decide(
          'task_failed',
          `${input.title}: ${failuresSinceDecision} attempts failed, last: ${error}`,
          ['reassign', 'retry', 'ask_human', 'abort'],
        );
      } else {
        await sleep(Math.min(2 ** failuresSinceDecision, 60) * 1000, {
          summary: `backoff before attempt ${attempt + 1}`,
        });
        continue;
      }
    }
    if (decision === 'abort') return fail(`aborted by decision after ${attempt} attempts`);
    // retry, reassign: a fresh window of attempts and a fresh deadline; retry may go back to an agent that failed.
    failuresSinceDecision = 0;
    deadlineAt = Date.now() + input.deadline_secs * 1000;
    if (decision === 'retry') exclude.length = 0;
  }
}

/**
 * An agent for the task: the local activity answers at once, or null when none
 * can take it (or tasks ahead in the role's queue take what is free); then wait,
 * until woken for its turn or at most the backoff, and ask again, for at most
 * the assignment timeout, measured by the times the asks report. Every choice
 * here follows from what the asks returned: on replay the SDK may hand a local
 * activity's result over before or after a timer or signal of the same moment
 * (the chaos run saw both), so neither the clock across activations nor a
 * give-up timer racing the asks could be replayed as they ran.
 */
async function assign(
  task: TaskContext,
  attempt: number,
  exclude: string[],
  deadlineAt: number,
  input: ParsedTaskInput,
  wakeUp: WakeUp,
): Promise<string | null> {
  if (!applies(TIMED_BY_ASKS)) return assignAsBefore(task, attempt, exclude, deadlineAt, input, wakeUp);
  let waitingSince: number | undefined;
  for (let wait = 500; ; wait = Math.min(wait * 2, wakeUp.longestWaitMs)) {
    const { agent_id, at } = await askForAgent(assignment(task, attempt, exclude, deadlineAt));
    if (agent_id) return agent_id;
    // Everyone excluded has failed this task: let them try again rather than wait for nobody.
    if (exclude.length) exclude.length = 0;
    waitingSince ??= at;
    const left = waitingSince + input.assignment_timeout_secs * 1000 - at;
    if (left <= 0) return null;
    await wakeUp.sleep(Math.min(wait, left), `no ${task.role} agent free; waiting`);
  }
}

const assignment = (task: TaskContext, attempt: number, exclude: string[], deadlineAt: number) => ({
  task,
  attempt,
  exclude,
  deadline: new Date(deadlineAt).toISOString(),
  // A first assignment the dispatcher could not make is timed from the task's submission (its workflow's start).
  submitted_at: attempt === 1 ? workflowInfo().startTime.toISOString() : undefined,
  // Its place in the queue is its submission's, however often it escalated or the control plane restarted.
  queued_since: workflowInfo().startTime.toISOString(),
});

/**
 * Runs begun before: the assignment timeout was the clock compared across
 * activations, then a durable timer started at the first wait.
 */
async function assignAsBefore(
  ...[task, attempt, exclude, deadlineAt, input, wakeUp]: Parameters<typeof assign>
): Promise<string | null> {
  const byTimer = applies(GIVE_UP_BY_TIMER);
  const giveUpAt = Date.now() + input.assignment_timeout_secs * 1000;
  let giveUp: { scope: CancellationScope; over: boolean } | undefined;
  for (let wait = 500; ; wait = Math.min(wait * 2, wakeUp.longestWaitMs)) {
    const agentId = await assignTask(assignment(task, attempt, exclude, deadlineAt));
    if (agentId) {
      if (giveUp && !giveUp.over) giveUp.scope.cancel();
      return agentId;
    }
    // Everyone excluded has failed this task: let them try again rather than wait for nobody.
    if (exclude.length) exclude.length = 0;
    const summary = `no ${task.role} agent free; waiting`;
    if (!byTimer) {
      if (Date.now() + wait > giveUpAt) return null;
      await wakeUp.sleep(wait, summary);
      continue;
    }
    if (giveUp?.over) return null;
    giveUp ??= startGiveUp(input.assignment_timeout_secs * 1000, task.role);
    const timer = giveUp;
    await wakeUp.sleep(wait, summary, () => timer.over);
  }
}

/** The assignment timeout as a timer; `over` once it fires. */
function startGiveUp(ms: number, role: string): { scope: CancellationScope; over: boolean } {
  const giveUp = { scope: new CancellationScope(), over: false };
  giveUp.scope
    .run(() => sleep(ms, { summary: `no ${role} agent for ${ms / 1000}s: escalate` }))
    .then(
      () => void (giveUp.over = true),
      () => undefined,
    );
  return giveUp;
}

/**
 * Runs the task on the agent's own queue until its deadline: each call's own
 * timeouts end at the deadline (runs begun before raced the calls against a
 * durable timer instead).
 */
async function runOn(
  agentId: string,
  task: TaskContext,
  attempt: number,
  deadlineAt: number,
  input: ParsedTaskInput,
  lean: boolean,
): Promise<Run> {
  const remaining = deadlineAt - Date.now();
  if (remaining <= 0) return { deadline: true };
  if (lean)
    return toolLoop(agentId, { task, attempt }, input, remaining, deadlineAt).then(
      (output) => ({ output }),
      (error: unknown) =>
        runFailure(
          error,
          agentId,
          (timeout) => timeout === TimeoutType.SCHEDULE_TO_CLOSE || timeout === TimeoutType.START_TO_CLOSE,
        ),
    );
  const work = new CancellationScope();
  const timer = new CancellationScope();
  const running: Promise<Run> = work
    .run(() =>
      // Each LLM and tool call its own activity (runs begun before: the whole task in one).
      applies('tool-loop')
        ? toolLoop(agentId, { task, attempt }, input, remaining)
        : agent.executeTask.executeWithOptions(
            {
              taskQueue: agentTaskQueue(agentId),
              scheduleToStartTimeout: `${input.pickup_timeout_secs}s`,
              startToCloseTimeout: remaining,
              heartbeatTimeout: HEARTBEAT_TIMEOUT,
              retry: { maximumAttempts: 1 },
              summary: `${input.role} ${agentId}: ${input.title}`.slice(0, 200),
            },
            [{ task, attempt }],
          ),
    )
    .then(
      (output) => ({ output }),
      (error: unknown) =>
        // The activity may only run until the deadline, so its start-to-close timer and the deadline timer below
        // end together; whichever the server fires first, the deadline has passed (runs begun before: as they ran).
        runFailure(
          error,
          agentId,
          (timeout) => timeout === TimeoutType.START_TO_CLOSE && applies('activity-timeout-is-deadline'),
        ),
    );
  const deadline: Promise<Run | undefined> = timer
    .run(() => sleep(remaining, { summary: `deadline of task ${task.task_id}` }))
    .then(
      () => ({ deadline: true }) as const,
      () => undefined,
    );
  const first = await Promise.race([running, deadline.then((d) => d ?? running)]);
  if ('deadline' in first) work.cancel();
  else timer.cancel();
  return first;
}

/** Upserts only the search attributes that differ from the workflow's (set at its start or upserted since), in one upsert: each is a visibility write. */
function upsertChanged(pairs: SearchAttributeUpdatePair[]): void {
  const current = workflowInfo().typedSearchAttributes;
  const changed = pairs.filter(({ key, value }) => current.get(key) !== value);
  if (changed.length) upsertSearchAttributes(changed);
}

/** A run that failed: its deadline passed when `isDeadline` says so of the call's timeout, else why it failed. */
function runFailure(error: unknown, agentId: string, isDeadline: (timeout: TimeoutType | undefined) => boolean): Run {
  const timeout =
    error instanceof ActivityFailure && error.cause instanceof TimeoutFailure ? error.cause.timeoutType : undefined;
  if (isDeadline(timeout)) return { deadline: true };
  return { error: describeRunFailure(error, agentId, timeout) };
}

function describeRunFailure(error: unknown, agentId: string, timeout: TimeoutType | undefined): string {
  if (timeout === TimeoutType.SCHEDULE_TO_START) return `agent ${agentId} did not pick the task up (gone?)`;
  if (timeout === TimeoutType.HEARTBEAT) return `agent ${agentId} stopped heartbeating (died?)`;
  return failureMessage(error);
}

/** A person approves the result, or rejects it with a reason (rework); the caller asks the DecisionMaker when nobody answers. */
function approve(gate: ApprovalGate, taskId: string, input: ParsedTaskInput): Promise<Verdict> {
  setCurrentDetails(`waiting for approval of ${input.title}: signal approve or reject`);
  return gate.wait(`result of task ${taskId}`, input.approval_timeout_secs * 1000);
}
