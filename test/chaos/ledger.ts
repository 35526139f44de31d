import type { EventBus } from '../../src/bus/event-bus';
import type { ApprovalRecord } from '../../src/contracts/approval';
import type { FeatureStatus } from '../../src/contracts/feature-input';

/** What was done more than once, read from the task stream and the features' own records. */
export interface Ledger {
  events: number;
  /** Per type, copies of an event stored again under the same Nats-Msg-Id (same task, attempt and step). */
  duplicateEvents: Record<string, number>;
  /** Tasks with more than one TaskCompleted: a step done twice. */
  stepsCompletedTwice: string[];
  /** Decisions published or recorded by a feature more than once (`<feature>: <decision id>`). */
  decisionsAppliedTwice: string[];
  /** Workflows that applied more approvals than gates were answered (only approvals are sent: one applies per gate). */
  approvalsAppliedTwice: string[];
}

/** A workflow's gates the person answered, and the approvals it recorded. */
export interface Gates {
  workflowId: string;
  opened: number;
  approvals: ApprovalRecord[];
}

export async function ledgerOf(
  bus: EventBus,
  statuses: (FeatureStatus | undefined)[],
  gates: Gates[],
): Promise<Ledger> {
  const byMsgId = new Map<string, { type: string; count: number }>();
  const completions = new Map<string, number>();
  const decisions = new Map<string, number>();
  let events = 0;
  for await (const { msgId, message } of bus.events()) {
    events++;
    if (msgId) {
      const seen = byMsgId.get(msgId) ?? { type: message.type, count: 0 };
      byMsgId.set(msgId, { ...seen, count: seen.count + 1 });
    }
    if (message.type === 'TaskCompleted') completions.set(message.task_id, (completions.get(message.task_id) ?? 0) + 1);
    if (message.type === 'DecisionMade')
      decisions.set(message.decision_id, (decisions.get(message.decision_id) ?? 0) + 1);
  }
  const duplicateEvents: Record<string, number> = {};
  for (const { type, count } of byMsgId.values())
    if (count > 1) duplicateEvents[type] = (duplicateEvents[type] ?? 0) + count - 1;
  const twice = (counts: Map<string, number>) => [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  return {
    events,
    duplicateEvents,
    stepsCompletedTwice: twice(completions),
    decisionsAppliedTwice: [
      ...twice(decisions),
      ...statuses.flatMap((s) =>
        s ? twice(counted(s.decisions.map((d) => d.id))).map((id) => `${s.feature_id}: ${id}`) : [],
      ),
    ],
    approvalsAppliedTwice: gates
      .filter((g) => g.approvals.filter((a) => a.applied).length > g.opened)
      .map((g) => g.workflowId),
  };
}

const counted = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());
