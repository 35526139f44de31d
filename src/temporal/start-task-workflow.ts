import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { ParsedTaskInput } from '../contracts/task-input';
import { patchLevelMemo } from '../contracts/patch-level';
import { taskWorkflowId } from '../contracts/workflow-ids';
import { taskSummary } from '../contracts/task-context';
import { VaporaAgentId, VaporaFeatureId, VaporaRole, VaporaStatus } from './search-attributes';

/**
 * Starts a task's own workflow on the control plane's queue, its search
 * attributes set at the start (each upsert later would be a visibility write):
 * running on its agent when one was chosen, else pending. Returns the run,
 * or undefined when the task's workflow was already started (by an earlier
 * try whose answer was lost).
 */
export async function startTaskWorkflow(
  temporal: Client,
  args: ParsedTaskInput & { task_id: string },
  { taskQueue, memo = {}, eager = false }: { taskQueue: string; memo?: Record<string, unknown>; eager?: boolean },
): Promise<string | undefined> {
  const { task_id, role, feature_id, assigned_agent } = args;
  return temporal.workflow
    .start('taskWorkflow', {
      taskQueue,
      workflowId: taskWorkflowId(task_id),
      args: [args],
      staticSummary: taskSummary(args),
      memo: { ...patchLevelMemo(), ...memo },
      typedSearchAttributes: [
        { key: VaporaRole, value: role },
        { key: VaporaStatus, value: assigned_agent ? 'running' : 'pending' },
        ...(assigned_agent ? [{ key: VaporaAgentId, value: assigned_agent }] : []),
        ...(feature_id ? [{ key: VaporaFeatureId, value: feature_id }] : []),
      ],
      requestEagerStart: eager,
    })
    .then(
      (started) => started.firstExecutionRunId,
      (error: unknown) => {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        return undefined;
      },
    );
}
