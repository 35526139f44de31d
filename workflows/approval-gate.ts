import { condition, setHandler } from '@temporalio/workflow';
import type { z } from 'zod';
import { describeIssues } from '../src/domain/validation';
import { ApprovePayload, RejectPayload, type ApprovalSignal, type PendingApproval } from '../src/work/approval';
import { approveSignal, rejectSignal } from './definitions';

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
    setHandler(approveSignal, (raw) => this.receive('approve', ApprovePayload, raw, (p) => p.comment));
    setHandler(rejectSignal, (raw) => this.receive('reject', RejectPayload, raw, (p) => p.reason));
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

  private receive<S extends z.ZodType<{ by: string }>>(kind: 'approve' | 'reject', schema: S, raw: unknown, text: (p: z.infer<S>) => string): void {
    const at = new Date().toISOString();
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      this.signals.push({ kind, by: '?', text: '', at, applied: false, ignored: `invalid payload (${describeIssues(parsed.error, 'payload').join('; ')})` });
      return;
    }
    const signal = { kind, by: parsed.data.by, text: text(parsed.data), at };
    if (!this.pending || this.verdict) {
      this.signals.push({ ...signal, applied: false, ignored: this.verdict ? 'an approval was already given' : 'no approval pending' });
      return;
    }
    this.verdict = signal;
    this.signals.push({ ...signal, applied: true });
  }
}
