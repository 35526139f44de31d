import { condition, setHandler } from '@temporalio/workflow';
import { describeIssues } from '../src/domain/validation';
import type { ApprovalRecord, PendingApproval } from '../src/contracts/approval';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate } from '../src/contracts/messages';
import { loadSchemas } from './validate-input';

export type Verdict = { kind: 'approve' | 'reject'; by: string; text: string } | { kind: 'timeout' };

/**
 * Human approval, by Update or by signal. Only the first that arrives while an
 * approval is pending is applied; late, duplicate or malformed ones are
 * recorded and ignored. An Update answers with its record, so the sender
 * learns at once; Temporal applies an Update id once, however often it is sent.
 */
export class ApprovalGate {
  pending: PendingApproval | null = null;
  readonly received: ApprovalRecord[] = [];
  private verdict: Verdict | undefined;

  constructor() {
    setHandler(approveSignal, async (raw) => void (await this.receive('approve', 'signal', raw)));
    setHandler(rejectSignal, async (raw) => void (await this.receive('reject', 'signal', raw)));
    setHandler(approveUpdate, (raw) => this.receive('approve', 'update', raw), { validator: (raw) => signedBy(raw) });
    setHandler(rejectUpdate, (raw) => this.receive('reject', 'update', raw), { validator: (raw) => signedBy(raw) });
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

  // Handled in the order they arrive: every call awaits the same chain before it looks at the gate.
  private async receive(kind: 'approve' | 'reject', via: ApprovalRecord['via'], raw: unknown): Promise<ApprovalRecord> {
    const at = new Date().toISOString();
    const { ApprovePayload, RejectPayload } = await loadSchemas();
    const parsed = (kind === 'approve' ? ApprovePayload : RejectPayload).safeParse(raw);
    const record = (entry: ApprovalRecord) => {
      this.received.push(entry);
      return entry;
    };
    if (!parsed.success) {
      const ignored = `invalid payload (${describeIssues(parsed.error, 'payload').join('; ')})`;
      return record({ kind, via, by: '?', text: '', at, applied: false, ignored });
    }
    const { by } = parsed.data;
    const text = 'reason' in parsed.data ? parsed.data.reason : parsed.data.comment;
    if (!this.pending || this.verdict) {
      const ignored = this.verdict ? 'an approval was already given' : 'no approval pending';
      return record({ kind, via, by, text, at, applied: false, ignored });
    }
    this.verdict = { kind, by, text };
    return record({ kind, via, by, text, at, applied: true });
  }
}

/**
 * An Update's validator runs before it enters history and cannot wait for the
 * schemas (see validate-input.ts): it refuses what names nobody; the handler
 * parses the rest and records what it finds.
 */
function signedBy(raw: unknown): void {
  const by = typeof raw === 'object' && raw !== null && 'by' in raw ? raw.by : undefined;
  if (typeof by !== 'string' || by.length === 0) throw new Error('by: who approves or rejects must be named');
}
