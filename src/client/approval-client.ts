import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ApprovalRecord, ApprovePayload, RejectPayload } from '../contracts/approval';
import { approveUpdate, rejectUpdate } from '../contracts/messages';
import { failureMessage } from '../temporal/failure-message';

export type Verdict = { approve: ApprovePayload } | { reject: RejectPayload };

/**
 * Sends an approval or rejection as an Update and returns what the workflow
 * recorded (applied, or ignored and why); a workflow that is gone is said so.
 */
export async function sendVerdict(client: Client, workflowId: string, verdict: Verdict): Promise<ApprovalRecord> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return 'approve' in verdict
      ? await handle.executeUpdate(approveUpdate, { args: [verdict.approve] })
      : await handle.executeUpdate(rejectUpdate, { args: [verdict.reject] });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw new Error(failureMessage(error), { cause: error });
    // Not found means no running workflow: either there never was one, or it has ended.
    const ended = await handle.describe().then(
      () => true,
      () => false,
    );
    throw new Error(
      ended
        ? `${workflowId} has already finished: nothing to approve`
        : `no workflow ${workflowId} (vapora feature list)`,
      { cause: error },
    );
  }
}
