import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { describeIssues } from '../src/domain/validation';
import type { ApprovalRecord, PendingApproval } from '../src/contracts/approval';
import { approveSignal, approveUpdate, GATE_OPENING, rejectSignal, rejectUpdate } from '../src/contracts/messages';
import { loadSchemas } from './validate-input';
import { applies } from './patches';

/**
 * Resolves once a later workflow task than this one runs (its history is
 * longer; the clock may move between activations of one task), or `sooner`
 * turns true.
 */
function workflowTaskEnds(sooner: () => boolean): Promise<void> {
  const task = workflowInfo().historyLength;
  return condition(() => sooner() || workflowInfo().historyLength !== task);
}

export type Verdict = { kind: 'approve' | 'reject'; by: string; text: string } | { kind: 'timeout' };

// Seals are checked where the plane's key is; locally, so the sender of an Update waits no extra round trip.
const { verifyApproval } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});
// Runs that received approvals before seals were checked replay as they ran: every approval unverified.
const SEALS_CHECKED = 'approval-seals-checked';
// Runs whose gate went on while an approval's seal was still being checked replay as they ran.
const HANDLERS_FIRST = 'gate-waits-for-its-handlers';
// Runs that took approvals as they came, the gate open or not, replay as they ran.
const TAKEN_AT_OPENING = 'approvals-taken-as-the-gate-opens';
// Runs that took Updates from the workflow task after the gate opened, measured by history length, replay as they ran.
const TAKEN_AFTER_TIMER = 'approvals-taken-after-a-timer';

/**
 * Human approval, by Update or by signal. Only the first that arrives while an
 * approval is pending is applied; late, duplicate or malformed ones are
 * recorded and ignored. An Update answers with its record, so the sender
 * learns at once; Temporal applies an Update id once, however often it is sent.
 * A sealed approval is applied only if the control plane verifies its seal
 * (its signer is then recorded); one without a seal, as the Web UI and the
 * `temporal` CLI send, is applied and recorded as unverified.
 */
export class ApprovalGate {
  pending: PendingApproval | null = null;
  readonly received: ApprovalRecord[] = [];
  private verdict: Verdict | undefined;
  /** The last approval's handling: each waits for the one before, so a seal being checked keeps its place. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Seals already checked: one copied from history cannot be used again at a later gate. */
  private readonly seals = new Set<string>();
  private readonly takenAtOpening = applies(TAKEN_AT_OPENING);
  private readonly takenAfterTimer = this.takenAtOpening && applies(TAKEN_AFTER_TIMER);
  /** From the gate's opening until its 1 ms timer fires: Updates are refused, nothing written (see takeUpdates). */
  private opening = false;

  /** The approval a person can give now, as the status query shows it: none while the gate is opening. */
  get answerable(): PendingApproval | null {
    return this.opening ? null : this.pending;
  }

  constructor() {
    setHandler(approveSignal, async (raw) => void (await this.signalled('approve', raw)));
    setHandler(rejectSignal, async (raw) => void (await this.signalled('reject', raw)));
    if (!this.takenAtOpening) this.takeUpdates(true);
  }

  /**
   * A signal that comes while the gate is closed waits to the end of its
   * workflow task: should the gate open in it, the signal answers it. The
   * event opening the gate and the signal may come in one workflow task; run,
   * the gate may have opened first (a query had applied that event), replayed,
   * the signal comes first: either way it answers the gate, so both go on
   * alike. One that comes in a workflow task of its own is recorded as
   * ignored.
   */
  private async signalled(kind: 'approve' | 'reject', raw: unknown): Promise<void> {
    const at = Date.now();
    if (this.takenAtOpening && !this.pending) await workflowTaskEnds(() => this.pending !== null);
    await this.receive(kind, 'signal', raw, new Date(at).toISOString());
  }

  /**
   * An Update is accepted, in history, where its handler first sees it. One
   * that came in the workflow task opening the gate is handed over, replayed,
   * in the activation that opens it, so its acceptance would come before the
   * gate's commands; run, it may have come in an activation of its own, after
   * them (the chaos run left runs no worker could replay either way). So the
   * gate takes Updates from a later workflow task on, and only while open:
   * one sent before is refused, with nothing written, and the sender told so.
   * That later task is the one a 1 ms timer started at opening fires in; until
   * then the validator refuses them (the client sends them again). Runs begun
   * before counted tasks by history length, but a query that came just before
   * the task had already applied its events, at a shorter length (the SDK
   * applies the history a query brings): the gate opened there, and an Update
   * of that same task was taken after it, as it never is on replay.
   */
  private takeUpdates(take: boolean): void {
    const validator = (raw: unknown) => {
      if (this.opening) throw new Error(GATE_OPENING);
      signedBy(raw);
    };
    setHandler(approveUpdate, take ? (raw) => this.receive('approve', 'update', raw) : undefined, { validator });
    setHandler(rejectUpdate, take ? (raw) => this.receive('reject', 'update', raw) : undefined, { validator });
  }

  /** Waits for a person until `timeoutMs` passes. */
  async wait(what: string, timeoutMs: number): Promise<Verdict> {
    const now = Date.now();
    this.pending = { what, since: new Date(now).toISOString(), deadline: new Date(now + timeoutMs).toISOString() };
    this.verdict = undefined;
    const answering = condition(() => this.verdict !== undefined, timeoutMs);
    const opened = this.pending;
    if (this.takenAfterTimer) {
      this.opening = true;
      this.takeUpdates(true);
      void sleep(1, { summary: 'the approval gate takes Updates' }).then(
        () => this.pending === opened && (this.opening = false),
      );
    } else if (this.takenAtOpening)
      void workflowTaskEnds(() => this.pending !== opened).then(
        () => this.pending === opened && this.takeUpdates(true),
      );
    const answered = await answering;
    // A second approval may still have its seal checked by a local activity: were the workflow to go on to a local
    // activity of its own meanwhile, the SDK would replay the two in another order than they ran, and no worker
    // could take the run again (the chaos run left 23 such runs; test/approval-gate.test.ts).
    if (applies(HANDLERS_FIRST)) await condition(allHandlersFinished);
    if (this.takenAtOpening) this.takeUpdates(false);
    this.pending = null;
    return answered ? this.verdict! : { kind: 'timeout' };
  }

  // Handled in the order they arrive, at the workflow time they arrived.
  private receive(
    kind: 'approve' | 'reject',
    via: ApprovalRecord['via'],
    raw: unknown,
    at = new Date().toISOString(),
  ): Promise<ApprovalRecord> {
    const handled = this.turn.then(() => this.consider(kind, via, raw, at));
    this.turn = handled.catch(() => undefined);
    return handled;
  }

  private async consider(
    kind: 'approve' | 'reject',
    via: ApprovalRecord['via'],
    raw: unknown,
    at: string,
  ): Promise<ApprovalRecord> {
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
    const { by, signer, at: sealedAt, seal } = parsed.data;
    const text = 'reason' in parsed.data ? parsed.data.reason : parsed.data.comment;
    const received = { kind, via, by, text, at };
    let verified: string | undefined;
    if (seal !== undefined && signer !== undefined && sealedAt !== undefined && applies(SEALS_CHECKED)) {
      const check = this.seals.has(seal)
        ? { refused: 'this seal was used before' }
        : await checkSeal({ workflowId: workflowInfo().workflowId, kind, by, text, signer, at: sealedAt, seal }, at);
      this.seals.add(seal);
      if ('refused' in check) return record({ ...received, applied: false, ignored: `not verified: ${check.refused}` });
      verified = check.signer;
    }
    const entry = verified === undefined ? received : { ...received, signer: verified };
    if (!this.pending || this.verdict) {
      const ignored = this.verdict ? 'an approval was already given' : 'no approval pending';
      return record({ ...entry, applied: false, ignored });
    }
    this.verdict = { kind, by, text };
    return record({ ...entry, applied: true });
  }
}

/** The control plane's word on a seal; a check that cannot run proves nobody, and says why. */
async function checkSeal(
  ...args: Parameters<Activities['verifyApproval']>
): Promise<{ signer: string } | { refused: string }> {
  try {
    return await verifyApproval(...args);
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    return { refused: `the seal could not be checked (${cause instanceof Error ? cause.message : String(cause)})` };
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
