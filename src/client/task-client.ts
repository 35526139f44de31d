import { status } from '@grpc/grpc-js';
import {
  ApplicationFailure,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DISPATCHER_SHARDS,
  dispatcherShardId,
  submitTaskUpdate,
  taskDispatcherId,
  taskStatusQuery,
  wakeSignal,
} from '../contracts/messages';
import { taskIdOf, taskWorkflowId } from '../contracts/workflow-ids';
import { patchLevelMemo } from '../contracts/patch-level';
import { dispatchTaskQueue } from '../contracts/task-queues';
import type { TaskOutcome, TaskSubmission, TaskSubmitted } from '../contracts/task-input';
import type { TaskDispatcherWorkflow, TaskWorkflow } from '../contracts/workflow-types';
import { jitteredBackoff, retry } from '../host/retry';
import { visibilityLiteral } from '../temporal/visibility-literal';
import { startTaskWorkflow } from '../temporal/start-task-workflow';
import { isGrpcCode } from '../temporal/grpc-code';
import { parseWorkflowInput } from '../contracts/workflow-inputs';

const startDispatcher = (client: Client, taskQueue: string, workflowId: string) =>
  client.workflow.start<TaskDispatcherWorkflow>('taskDispatcherWorkflow', {
    taskQueue: dispatchTaskQueue(taskQueue),
    args: [{ taskQueue }],
    workflowId,
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: 'task dispatcher: assigns tasks by Update',
    memo: patchLevelMemo(),
  });

/** Starts every dispatcher shard of `taskQueue` that is not running, so no task pays for a shard's first start. */
export async function ensureDispatchers(client: Client, taskQueue: string): Promise<void> {
  await Promise.all(
    Array.from({ length: DISPATCHER_SHARDS }, (_, shard) =>
      startDispatcher(client, taskQueue, dispatcherShardId(taskQueue, shard)),
    ),
  );
}

/**
 * Wakes a task waiting for an agent (see FleetView); one that has ended or
 * moved on ignores it. Retried for a few seconds while Temporal is away (a
 * restart), since a lost wake leaves the slot idle until the task asks again.
 */
export const taskWaker = (client: Client) => (taskId: string) =>
  void retry(() => client.workflow.getHandle(taskWorkflowId(taskId)).signal(wakeSignal), {
    attempts: 6,
    delayMs: jitteredBackoff(250),
    retryable: async (error) => !(error instanceof WorkflowNotFoundError),
  }).catch(() => undefined);

/**
 * Wakes every task on `taskQueue` that waits for its first agent: a control
 * plane that starts has an empty queue, and they would otherwise come back
 * only when their own wait ends. They ask again, and queue again in the order
 * they ask. Another stack's tasks in the same namespace are its plane's to wake.
 */
export async function wakeWaitingTasks(client: Client, taskQueue: string, wake = taskWaker(client)): Promise<number> {
  let woken = 0;
  const query = `WorkflowType = 'taskWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = ${visibilityLiteral(taskQueue)} AND VaporaStatus = 'pending'`;
  for await (const w of client.workflow.list({ query })) {
    wake(taskIdOf(w.workflowId));
    woken++;
  }
  return woken;
}

/** The run each dispatcher shard last answered from, per client (see submitTask). */
const dispatcherRuns = new WeakMap<Client, Map<string, string>>();

/**
 * Hands a task to its dispatcher shard (starting the shard for its first
 * task): returns once the task is assigned and its workflow started. The
 * update id is the task id, so asking again never submits a task twice.
 * The update goes to the run that answered this client's last one, so the
 * server need not look the shard's current run up; a run that has ended
 * (it continues as new every few hundred tasks) answers not found, and the
 * shard's current run is asked for again. A shard with its fill of
 * submissions in flight refuses more, and one that keeps refusing for
 * FAST_PATH_PATIENCE_MS is given up on: the task's workflow is then started
 * here, and finds its agent once the plane runs it (no agent in the answer).
 */
export async function submitTask(client: Client, taskQueue: string, task: TaskSubmission): Promise<TaskSubmitted> {
  const workflowId = taskDispatcherId(taskQueue, task.task_id);
  const known = dispatcherRuns.get(client) ?? new Map<string, string>();
  dispatcherRuns.set(client, known);
  const viaDispatcher = () =>
    retry(
      async () => {
        const update = await client.workflow
          .getHandle(workflowId, known.get(workflowId))
          .startUpdate(submitTaskUpdate, {
            args: [task],
            updateId: task.task_id,
            // Typed for ACCEPTED alone; COMPLETED is what executeUpdate asks for: one request that waits for the answer.
            waitForStage: WorkflowUpdateStage.COMPLETED as typeof WorkflowUpdateStage.ACCEPTED,
          });
        known.set(workflowId, update.workflowRunId!);
        return update.result();
      },
      {
        attempts: Infinity,
        withinMs: FAST_PATH_PATIENCE_MS,
        // Quick at first, for a shard between two runs; up to 2 s apart for one whose workflow task timed out.
        delayMs: (attempt) => Math.min(jitteredBackoff(20)(2 ** (attempt - 1)), 2_000),
        retryable: async (error) => {
          if (!(error instanceof WorkflowNotFoundError)) return worthRetrying(error);
          // The run asked has ended: its successor is the shard's current run.
          if (known.delete(workflowId)) return true;
          // Not running yet, or between two runs (it continues as new; the server says not found): start it.
          return startDispatcher(client, taskQueue, workflowId).then(() => true);
        },
      },
    );
  return viaDispatcher().catch((error: unknown) => {
    if (isGrpcCode(error, status.RESOURCE_EXHAUSTED) || worthRetrying(error)) return startTask(client, taskQueue, task);
    throw error;
  });
}

/**
 * How long a submission is sent again while the shard says it may pass, before the task takes the durable way in:
 * a shard whose workflow task timed out on an overloaded control plane refuses updates until its retry (within
 * 30 s on the dev server), and one whose workflow task fails at every retry refuses them for good (seen under
 * overload: the SDK's worker failed a dispatcher's workflow task as nondeterministic after the server delivered an
 * update it had aborted a second time).
 */
const FAST_PATH_PATIENCE_MS = 10_000;

/**
 * The durable way in, for a shard that has its fill of submissions in flight
 * (the server's history.maxInFlightUpdates, 10 by default) or keeps refusing
 * them: the task's own workflow, started on the control plane's queue, whose
 * first workflow task asks for an agent. What a busy plane cannot take at
 * once waits there, on the server, with no clock running, rather than in
 * submissions held open and sent again.
 */
async function startTask(client: Client, taskQueue: string, { task_id, ...input }: TaskSubmission) {
  const args = { ...parseWorkflowInput('taskWorkflow', { ...input, task_id }), task_id };
  const run_id = await startTaskWorkflow(client, args, { taskQueue });
  return { task_id, workflow_id: taskWorkflowId(task_id), agent_id: null, run_id } satisfies TaskSubmitted;
}

/**
 * The server rejected the update because the workflow task carrying it ended
 * without it (UnprocessedUpdate), the shard's last workflow task failed
 * (timed out on an overloaded worker) and awaits its retry, or the server
 * aborted the updates it held for the shard (UNAVAILABLE "workflow update was
 * aborted", by the thousand on shards the control plane could not keep up
 * with): all pass, and the update id keeps a retry from submitting the task
 * twice.
 */
function worthRetrying(error: unknown): boolean {
  if (error instanceof WorkflowUpdateFailedError) {
    return error.cause instanceof ApplicationFailure && error.cause.type === 'UnprocessedUpdate';
  }
  if (!(error instanceof ServiceError && isGrpcServiceError(error.cause))) return false;
  const { code, details } = error.cause;
  return (
    code === status.UNAVAILABLE ||
    (code === status.FAILED_PRECONDITION && /workflow task in failed state/i.test(details))
  );
}

/**
 * Follows a submitted task until it ends or waits for a person: calls
 * `onChange` with its status each time that changes, and returns the last.
 * A task whose workflow failed rejects with the reason.
 */
export async function followTask(
  client: Client,
  { workflow_id: workflowId, run_id: runId }: Pick<TaskSubmitted, 'workflow_id' | 'run_id'>,
  onChange: (status: TaskOutcome) => void = () => undefined,
  pollMs = 500,
): Promise<TaskOutcome> {
  const handle = client.workflow.getHandle<TaskWorkflow>(workflowId, runId);
  const ended = handle.result();
  ended.catch(() => undefined); // awaited below, or left once a person is asked
  let said = '';
  for (;;) {
    const outcome = await Promise.race([ended, sleep(pollMs).then(() => undefined)]);
    if (outcome) return outcome;
    const status = await handle.query(taskStatusQuery);
    const now = JSON.stringify([status.status, status.agent_id, status.attempts.length, status.pending_approval]);
    if (now !== said) onChange(status);
    said = now;
    if (status.pending_approval) return status;
  }
}
