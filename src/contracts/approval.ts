import { z } from 'zod';

/** How long a gate waits for a person, in seconds, before the DecisionMaker is asked: a day unless said. */
export const ApprovalTimeoutSecs = z
  .number()
  .int()
  .min(1)
  .max(30 * 86_400)
  .default(86_400);

/** A person's name, in their token (`vpp_<name>.…`) and as the signer of their approvals; `operator` is the operator's. */
export const PERSON_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;
export const PersonName = z
  .string()
  .regex(PERSON_NAME, 'must be letters, digits, ".", "_" or "-" (at most 64), starting with a letter or digit')
  .refine((name) => name !== 'operator', '"operator" names the operator token');

/**
 * What makes an approval signed: who signs (`operator` or a person's name),
 * when, and an HMAC keyed by the signer's token (see
 * src/control-plane/approval-seal.ts). The token itself is never sent; all
 * three or none, and none is a plain approval (the Web UI's), recorded as unverified.
 */
const Signature = {
  signer: z.string().min(1).max(200).optional(),
  at: z.string().max(40).optional(),
  seal: z.string().min(1).max(200).optional(),
};
const signedWhole = (p: { signer?: string; at?: string; seal?: string }) =>
  [p.signer, p.at, p.seal].every((v) => v === undefined) || [p.signer, p.at, p.seal].every((v) => v !== undefined);
const SIGNED_WHOLE = { message: 'signer, at and seal come together or not at all', path: ['seal'] };

/** `approve {by, comment}`: the payload of the approve signal, from any client; `by` is a display name unless signed. */
export const ApprovePayload = z
  .object({ by: z.string().min(1).max(200), comment: z.string().max(5_000).default(''), ...Signature })
  .refine(signedWhole, SIGNED_WHOLE);
export type ApprovePayload = z.input<typeof ApprovePayload>;

/** `reject {by, reason}`: a reason is required, it is what the rework is about. */
export const RejectPayload = z
  .object({ by: z.string().min(1).max(200), reason: z.string().min(1).max(5_000), ...Signature })
  .refine(signedWhole, SIGNED_WHOLE);
export type RejectPayload = z.input<typeof RejectPayload>;

/** One approval or rejection as received (by Update or by signal), applied or not, so the history of a gate is plain to see. */
export interface ApprovalRecord {
  kind: 'approve' | 'reject';
  via: 'update' | 'signal';
  /** The name given: a display name, proved only when `signer` is there. */
  by: string;
  /**
   * Who the seal proved signed it (`operator` or a person's name), checked by
   * the control plane; absent for a plain signal or Update (the Web UI's,
   * `temporal workflow signal`'s), which is recorded as unverified.
   */
  signer?: string;
  text: string;
  at: string;
  applied: boolean;
  /** Why it was not applied: none pending (late or duplicate), an invalid payload, or a seal not verified. */
  ignored?: string;
}

export interface PendingApproval {
  what: string;
  since: string;
  deadline: string;
}
