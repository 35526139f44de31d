import type { FeatureInput, FeatureStatus } from './feature-input';
import type { PoolInput, PoolStatus } from './fleet';
import type { TaskInput, TaskOutcome } from './task-input';

/**
 * The workflows clients start, by type name and signature, so client code
 * never imports workflows/ (test/workflow-types.test.ts holds the names to
 * the functions the worker registers).
 */
export type FeatureWorkflow = (input: FeatureInput) => Promise<FeatureStatus>;
export type AgentPoolWorkflow = (input: PoolInput) => Promise<PoolStatus>;
/** Started by a dispatcher (see submitTask), followed by clients. */
export type TaskWorkflow = (input: TaskInput) => Promise<TaskOutcome>;
export type TaskDispatcherWorkflow = (options?: { taskQueue: string }) => Promise<void>;
export type StackCheckWorkflow = () => Promise<StackCheck>;

export interface StackCheck {
  registry: 'ok';
  bus: 'ok';
  workflowId: string;
}

/** Each client-started workflow's type name: what the worker registers. */
export const WORKFLOW_TYPES = [
  'featureWorkflow',
  'agentPoolWorkflow',
  'taskDispatcherWorkflow',
  'stackCheckWorkflow',
] as const;
