import type { ApiAuth } from '../src/control-plane/api-auth';
import { verifySeal, type SealedFields } from '../src/control-plane/approval-seal';

/** Approvals' seals, checked where the plane's key and the operator token are (see workflows/approval-gate.ts). */
export function createApprovalActivities(auth: ApiAuth) {
  return {
    /** Run as a local activity: a person waits on the answer of their Update. */
    async verifyApproval(sealed: SealedFields & { seal: string }, receivedAt: string) {
      return verifySeal(auth, sealed, receivedAt);
    },
  };
}
