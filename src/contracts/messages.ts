import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalRecord, ApprovePayload, RejectPayload } from './approval';
import type { FeatureStatus } from './feature-input';
import type { TaskOutcome, TaskSubmission, TaskSubmitted } from './task-input';

/**
 * Signals, queries and updates shared by the workflows and every client (CLI,
 * tests, code). Approvals come as Updates, which answer whether they were
 * applied or why not, and as signals of the same names, for the `temporal`
 * CLI and the Web UI; both are recorded alike.
 */
export const approveUpdate = defineUpdate<ApprovalRecord, [ApprovePayload]>('approve');
export const rejectUpdate = defineUpdate<ApprovalRecord, [RejectPayload]>('reject');
export const approveSignal = defineSignal<[ApprovePayload]>('approve');
export const rejectSignal = defineSignal<[RejectPayload]>('reject');
/** What an approval Update sent in the instant its gate opens is refused with, nothing applied: `sendVerdict` sends it again. */
export const GATE_OPENING = 'the approval gate is opening: nothing was applied; send it again';
export const taskStatusQuery = defineQuery<TaskOutcome>('status');
export const featureStatusQuery = defineQuery<FeatureStatus>('status');
export const submitTaskUpdate = defineUpdate<TaskSubmitted, [TaskSubmission]>('submitTask');
/** The control plane to a task waiting for an agent: one is free for it now, ask again. */
export const wakeSignal = defineSignal('wake');

/**
 * The long-lived dispatcher workflows of a control-plane task queue, in
 * shards: one workflow runs one workflow task at a time, and the server lets
 * at most 10 updates be in flight per workflow (history.maxInFlightUpdates).
 */
export const DISPATCHER_SHARDS = 32;
export const dispatcherShardId = (taskQueue: string, shard: number) => `task-dispatcher-${taskQueue}-${shard}`;
export const taskDispatcherId = (taskQueue: string, taskId: string) => {
  let hash = 0;
  for (const c of taskId) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return dispatcherShardId(taskQueue, hash % DISPATCHER_SHARDS);
};
