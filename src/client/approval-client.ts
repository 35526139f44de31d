import { status } from '@grpc/grpc-js';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { ApprovalRecord, ApprovePayload, RejectPayload } from '../contracts/approval';
import { approveUpdate, GATE_OPENING, rejectUpdate } from '../contracts/messages';
import { signerOf } from '../control-plane/api-auth';
import { sealApproval } from '../control-plane/approval-seal';
import { failureMessage } from '../temporal/failure-message';
import { isGrpcCode } from '../temporal/grpc-code';

export type Verdict = { approve: ApprovePayload } | { reject: RejectPayload };

// A gate takes Updates a moment after it opens (the next workflow task); one refused before is sent again, for ~10 s.
const OPENING_TRIES = 50;

/**
 * Sends an approval or rejection as an Update and returns what the workflow
 * recorded (applied, or ignored and why); a workflow that is gone, or that
 * waits for no approval (it takes Updates only while one is pending), is said so.
 * With a `token` (the operator's or a person's), the approval is signed with
 * it (see signVerdict); the token itself is never sent.
 */
export async function sendVerdict(
  client: Client,
  workflowId: string,
  unsigned: Verdict,
  token?: string,
): Promise<ApprovalRecord> {
  const verdict = token ? signVerdict(workflowId, unsigned, token) : unsigned;
  const handle = client.workflow.getHandle(workflowId);
  const send = () =>
    'approve' in verdict
      ? handle.executeUpdate(approveUpdate, { args: [verdict.approve] })
      : handle.executeUpdate(rejectUpdate, { args: [verdict.reject] });
  for (let tries = 1; ; tries++) {
    try {
      return await send();
    } catch (error) {
      const refusal = error instanceof WorkflowUpdateFailedError ? (error.cause?.message ?? '') : '';
      // Refused in the instant the gate opens (by the gate, or by the server when the workflow task that carried it
      // ended without taking it), or while the workflow has its fill of Updates in flight (which the connection does
      // not retry: see connection.ts): nothing was applied, and it is taken a moment later.
      const later =
        refusal === GATE_OPENING ||
        /wasn't processed by worker/.test(refusal) ||
        isGrpcCode(error, status.RESOURCE_EXHAUSTED);
      if (later && tries < OPENING_TRIES) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (/^No registered handler for update/.test(refusal))
        throw new Error(`${workflowId} has no approval pending: nothing was applied`, { cause: error });
      throw await notSent(handle, workflowId, error);
    }
  }
}

/** Why an approval could not be sent: the workflow is gone or never was, or what the server said. */
async function notSent(handle: WorkflowHandle, workflowId: string, error: unknown): Promise<Error> {
  if (!(error instanceof WorkflowNotFoundError)) return new Error(failureMessage(error), { cause: error });
  // Not found means no running workflow: either there never was one, or it has ended.
  const ended = await handle.describe().then(
    () => true,
    () => false,
  );
  return new Error(
    ended
      ? `${workflowId} has already finished: nothing to approve`
      : `no workflow ${workflowId} (vapora feature list)`,
    { cause: error },
  );
}

/**
 * The verdict with its signer (`operator` or the token's person), the time and
 * the seal the control plane checks. A person's token signs only in their own
 * name: another `by` is refused here, before anything is sent.
 */
export function signVerdict<V extends Verdict>(workflowId: string, verdict: V, token: string, now = new Date()): V {
  const signer = signerOf(token);
  if (!signer)
    throw new Error(
      'this token cannot sign approvals: only the operator token and person tokens (vapora token issue) can',
    );
  const sign = (kind: 'approve' | 'reject', by: string, text: string) => {
    if (signer !== 'operator' && by !== signer)
      throw new Error(`by "${by}" is not ${signer}, whose token signs this: a person approves as themselves`);
    const at = now.toISOString();
    return { signer, at, seal: sealApproval(token, { workflowId, kind, by, text, signer, at }) };
  };
  // The same verdict with three fields more: still a V.
  return (
    'approve' in verdict
      ? { approve: { ...verdict.approve, ...sign('approve', verdict.approve.by, verdict.approve.comment ?? '') } }
      : { reject: { ...verdict.reject, ...sign('reject', verdict.reject.by, verdict.reject.reason) } }
  ) as V;
}

/** Who approved, as people read it: verified by a seal, or as claimed and how it came. */
export function approverLabel(a: Pick<ApprovalRecord, 'by' | 'signer' | 'via'>): string {
  if (a.signer === undefined) return `${a.by} (unverified, Temporal ${a.via})`;
  if (a.signer === a.by) return `${a.by} (signed by token)`;
  return `${a.by} (signed by ${a.signer === 'operator' ? 'the operator token' : `${a.signer}'s token`})`;
}
