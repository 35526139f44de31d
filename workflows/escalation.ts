import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Decision } from '../src/domain';
import type { DecisionRequest } from '../src/control-plane/decision-service';
import type { ApprovalGate } from './approval-gate';

const { escalate } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * Escalates to the DecisionMaker agent; when it answers `ask_human`, waits
 * for a person at `gate` (approve → "approved", reject or silence → "abort").
 */
export async function escalateToDecisionMaker(
  request: DecisionRequest,
  gate: ApprovalGate,
  humanTimeoutMs: number,
  onDecision: (d: Decision) => void,
): Promise<string> {
  setCurrentDetails(`escalated to the DecisionMaker: ${request.decision_type}`);
  const decision = await escalate.executeWithOptions(
    { startToCloseTimeout: '2 minutes', summary: `DecisionMaker: ${request.decision_type}` },
    [request],
  );
  onDecision(decision);
  if (decision.decision !== 'ask_human') return decision.decision;
  setCurrentDetails(
    `the DecisionMaker asks a person (${request.decision_type}): signal approve to go on, reject to stop`,
  );
  const verdict = await gate.wait(`${request.decision_type}: ${request.context}`, humanTimeoutMs);
  return verdict.kind === 'approve' ? 'approved' : 'abort';
}
