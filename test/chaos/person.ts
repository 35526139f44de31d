import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { sendVerdict } from '../../src/client/approval-client';
import type { ApprovalRecord, PendingApproval } from '../../src/contracts/approval';
import type { Gates } from './ledger';
import { approveSignal, featureStatusQuery } from '../../src/contracts/messages';
import type { SeededRandom } from './seeded-random';
import { retried } from './retried';

const BY = { by: 'chaos', comment: '' };
/** A full look at the run's features, for a gate opened outside `awaiting-approval` (a feature's own escalation). */
const SWEEP_MS = 15_000;
const AGAIN_MS = 60_000;

/**
 * The person at the keyboard: approves every gate the run's workflows open
 * (a feature's release, a task or feature the DecisionMaker handed to a
 * person) at a random moment, some twice at once, some again once the gate
 * has closed, by signed Update or plain signal. Counts the gates it answered
 * per workflow, so an approval applied twice shows.
 */
export class Person {
  readonly sent = { onTime: 0, duplicate: 0, late: 0, again: 0 };
  /** Distinct gates answered, by workflow id. */
  readonly gates = new Map<string, number>();
  /** When each gate's answer ended (Infinity while under way), by gate. */
  private readonly answered = new Map<string, number>();
  private readonly lookedAt = new Map<string, number>();
  private stopping = false;
  private readonly running: Promise<void>;
  /** Answers under way, some waiting to be sent late. */
  private readonly answering = new Set<Promise<void>>();
  private readonly cut = new AbortController();

  constructor(
    private readonly client: Client,
    private readonly token: string | undefined,
    private readonly random: SeededRandom,
    /** Whether a workflow id is this run's. */
    private readonly ours: (workflowId: string) => boolean,
  ) {
    this.running = this.loop();
  }

  /**
   * Stops looking, and lets the answers under way end (cut off after half a
   * minute) before the run closes the connection: a call retried after that
   * would throw where nobody catches it.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    const cutting = setTimeout(() => this.cut.abort(), 30_000);
    await Promise.all(this.answering);
    clearTimeout(cutting);
  }

  private async loop(): Promise<void> {
    let swept = Date.now();
    while (!this.stopping) {
      await sleep(1000);
      const sweep = Date.now() - swept > SWEEP_MS;
      if (sweep) swept = Date.now();
      const asking =
        `(WorkflowType = 'featureWorkflow' AND VaporaStatus = 'awaiting-approval') OR ` +
        `(WorkflowType = 'taskWorkflow' AND VaporaStatus = 'escalated')`;
      const query = `ExecutionStatus = 'Running' AND (${sweep ? `WorkflowType = 'featureWorkflow' OR ` : ''}${asking})`;
      const candidates = await this.list(query);
      await Promise.all(candidates.filter((id) => this.due(id)).map((id) => this.look(id)));
    }
  }

  private async list(query: string): Promise<string[]> {
    return retried(async () => {
      const found: string[] = [];
      for await (const w of this.client.workflow.list({ query })) if (this.ours(w.workflowId)) found.push(w.workflowId);
      return found;
    }).catch((): string[] => []);
  }

  /** Not looked at in the last few seconds: an answer takes a moment to close its gate. */
  private due(workflowId: string): boolean {
    return Date.now() - (this.lookedAt.get(workflowId) ?? 0) > 5000;
  }

  /** Each workflow whose gates it answered: how many, and the approvals the workflow recorded (asked at the end). */
  async answeredGates(): Promise<Gates[]> {
    return Promise.all(
      [...this.gates].map(async ([workflowId, opened]) => ({
        workflowId,
        opened,
        approvals: await retried(() => this.status(workflowId))
          .then((s) => s.approvals ?? [])
          .catch(() => []),
      })),
    );
  }

  // Features and tasks answer the same `status` query, each with its pending approval and the approvals received.
  private status(workflowId: string) {
    return this.client.workflow
      .getHandle(workflowId)
      .query<{ pending_approval?: PendingApproval | null; approvals?: ApprovalRecord[] }>(featureStatusQuery.name);
  }

  private async look(workflowId: string): Promise<void> {
    this.lookedAt.set(workflowId, Date.now());
    const pending = await this.status(workflowId)
      .then((s) => s.pending_approval)
      .catch(() => undefined);
    const gate = pending && `${workflowId}@${pending.since}`;
    if (!gate) return;
    const answeredAt = this.answered.get(gate);
    // Still open a minute after its answer ended (every try failed against an overloaded server): answer it again, as a person would.
    if (answeredAt !== undefined && Date.now() - answeredAt < AGAIN_MS) return;
    this.answered.set(gate, Infinity);
    let answer: Promise<void>;
    if (answeredAt === undefined) {
      this.gates.set(workflowId, (this.gates.get(workflowId) ?? 0) + 1);
      // Late only at a release: a task's next escalation may open a gate within seconds, which a late approval would rightly answer.
      answer = this.answer(workflowId, pending.what.startsWith('release of'));
    } else {
      this.sent.again++;
      answer = this.approve(workflowId, false).then(() => undefined);
    }
    this.answering.add(answer);
    void answer.finally(() => {
      this.answering.delete(answer);
      this.answered.set(gate, Date.now());
    });
  }

  private async answer(workflowId: string, lateAllowed: boolean): Promise<void> {
    const [delay, twice, late, plain] = [
      this.random.between(0, 2000),
      this.random.chance(0.25),
      this.random.chance(0.2) && lateAllowed,
      this.random.chance(0.3),
    ];
    await sleep(delay);
    this.sent.onTime++;
    const first = this.approve(workflowId, plain);
    if (twice) {
      this.sent.duplicate++;
      await this.approve(workflowId, !plain);
    }
    await first;
    if (late) {
      await sleep(5000);
      this.sent.late++;
      await this.approve(workflowId, plain);
    }
  }

  private approve(workflowId: string, plain: boolean): Promise<unknown> {
    return retried<unknown>(
      () =>
        this.client.withAbortSignal<unknown>(this.cut.signal, () =>
          plain
            ? this.client.workflow.getHandle(workflowId).signal(approveSignal, BY)
            : sendVerdict(this.client, workflowId, { approve: BY }, this.token),
        ),
      undefined,
      this.cut.signal,
    ).catch(() => undefined); // a late one may find the workflow ended (or no gate open): that is the point
  }
}
