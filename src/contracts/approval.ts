import { z } from 'zod';

/** How long a gate waits for a person, in seconds, before the DecisionMaker is asked: a day unless said. */
export const ApprovalTimeoutSecs = z
  .number()
  .int()
  .min(1)
  .max(30 * 86_400)
  .default(86_400);

/** `approve {by, comment}`: the payload of the approve signal, from any client. */
export const ApprovePayload = z.object({ by: z.string().min(1).max(200), comment: z.string().max(5_000).default('') });
export type ApprovePayload = z.input<typeof ApprovePayload>;

/** `reject {by, reason}`: a reason is required, it is what the rework is about. */
export const RejectPayload = z.object({ by: z.string().min(1).max(200), reason: z.string().min(1).max(5_000) });
export type RejectPayload = z.input<typeof RejectPayload>;

/** One approval or rejection as received (by Update or by signal), applied or not, so the history of a gate is plain to see. */
export interface ApprovalRecord {
  kind: 'approve' | 'reject';
  via: 'update' | 'signal';
  by: string;
  text: string;
  at: string;
  applied: boolean;
  /** Why it was not applied: none pending (late or duplicate), or an invalid payload. */
  ignored?: string;
}

export interface PendingApproval {
  what: string;
  since: string;
  deadline: string;
}
