import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ApprovePayload, RejectPayload } from '../src/work/approval';
import type { FeatureStatus } from '../src/work/feature-input';
import type { TaskOutcome } from '../src/work/task-input';

/** Signals and queries shared by the workflows and every client (CLI, tests, code). */
export const approveSignal = defineSignal<[ApprovePayload]>('approve');
export const rejectSignal = defineSignal<[RejectPayload]>('reject');
export const taskStatusQuery = defineQuery<TaskOutcome>('status');
export const featureStatusQuery = defineQuery<FeatureStatus>('status');
