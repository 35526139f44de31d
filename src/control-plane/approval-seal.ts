import { createHmac } from 'node:crypto';
import { sameToken } from '../state-secrets';
import type { ApiAuth } from './api-auth';

/** What a seal covers: the approval, the workflow it is for, who signs it and when. */
export interface SealedFields {
  workflowId: string;
  kind: 'approve' | 'reject';
  by: string;
  text: string;
  signer: string;
  at: string;
}

/** How far a seal's time may be from the workflow's when it arrives: a seal copied from history soon goes stale. */
export const SEAL_MAX_AGE_MINUTES = 15;

/**
 * An approval's seal: an HMAC keyed by the signer's token itself, so the token
 * never travels and only its holder (or the plane, which can remake it) can seal.
 */
export function sealApproval(token: string, f: SealedFields): string {
  // A JSON array: no field can run into the next.
  const canonical = JSON.stringify([f.workflowId, f.kind, f.by, f.text, f.signer, f.at]);
  return createHmac('sha256', token).update(canonical).digest('base64url');
}

/**
 * The signer a seal proves, or why it proves nobody; `receivedAt` is the
 * workflow's time when the approval arrived. A person's seal also proves `by`,
 * which must be their name; the operator's `by` is a display name.
 */
export function verifySeal(
  auth: ApiAuth,
  sealed: SealedFields & { seal: string },
  receivedAt: string,
): { signer: string } | { refused: string } {
  const { signer, at, by, seal } = sealed;
  const offMinutes = Math.abs(Date.parse(receivedAt) - Date.parse(at)) / 60_000;
  if (Number.isNaN(offMinutes) || offMinutes > SEAL_MAX_AGE_MINUTES)
    return {
      refused: `sealed at ${at}, more than ${SEAL_MAX_AGE_MINUTES} minutes from when it arrived (${receivedAt})`,
    };
  const token = auth.tokenOf(signer);
  if (!token || !sameToken(seal, sealApproval(token, sealed)))
    return { refused: `the seal was not made with ${signer}'s token` };
  if (signer !== 'operator' && by !== signer) return { refused: `by "${by}" is not the token's person (${signer})` };
  return { signer };
}
