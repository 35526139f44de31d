import { condition, setHandler } from '@temporalio/workflow';
import { describeIssues } from '../src/domain/validation';
import type { ApprovalSignal, PendingApproval } from '../src/contracts/approval';
import { approveSignal, rejectSignal } from '../src/contracts/messages';
import { loadSchemas } from './validate-input';

export type Verdict = { kind: 'approve' | 'reject'; by: string; text: string } | { kind: 'timeout' };

/**
 * Human approval by signal. Only a signal that arrives while an approval is
 * pending is applied, and only the first; late, duplicate or malformed ones
 * are recorded and ignored.
 */
export class ApprovalGate {
  pending: PendingApproval | null = null;
  readonly signals: ApprovalSignal[] = [];
  private verdict: Verdict | undefined;

  constructor() {
    setHandler(approveSignal, (raw) => this.receive('approve', raw));
    setHandler(rejectSignal, (raw) => this.receive('reject', raw));
  }

  /** Waits for a person until `timeoutMs` passes. */
  async wait(what: string, timeoutMs: number): Promise<Verdict> {
    const now = Date.now();
    this.pending = { what, since: new Date(now).toISOString(), deadline: new Date(now + timeoutMs).toISOString() };
    this.verdict = undefined;
    const answered = await condition(() => this.verdict !== undefined, timeoutMs);
    this.pending = null;
    return answered ? this.verdict! : { kind: 'timeout' };
  }

  // Handled in the order signals arrive: every call awaits the same chain before it looks at the gate.
  private async receive(kind: 'approve' | 'reject', raw: unknown): Promise<void> {
    const at = new Date().toISOString();
    const { ApprovePayload, RejectPayload } = await loadSchemas();
    const parsed = (kind === 'approve' ? ApprovePayload : RejectPayload).safeParse(raw);
    if (!parsed.success) {
      this.signals.push({
        kind,
        by: '?',
        text: '',
        at,
        applied: false,
        ignored: `invalid payload (${describeIssues(parsed.error, 'payload').join('; ')})`,
      });
      return;
    }
    const { by } = parsed.data;
    const signal = { kind, by, text: 'reason' in parsed.data ? parsed.data.reason : parsed.data.comment, at };
    if (!this.pending || this.verdict) {
      this.signals.push({
        ...signal,
        applied: false,
        ignored: this.verdict ? 'an approval was already given' : 'no approval pending',
      });
      return;
    }
    this.verdict = signal;
    this.signals.push({ ...signal, applied: true });
  }
}
