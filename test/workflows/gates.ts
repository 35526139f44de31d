import { defineQuery, proxyLocalActivities, setHandler, sleep, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { ApprovalGate } from '../../workflows/approval-gate';
import type { ApprovalRecord } from '../../src/contracts/approval';

// Workflows around an approval gate, in the shapes the chaos run broke.

const { nextStep } = proxyLocalActivities<{ nextStep(): Promise<null> }>({ startToCloseTimeout: '10s' });

/** A gate, then what a task does next (asks for an agent locally, then waits). */
export async function gateThenStep(): Promise<ApprovalRecord[]> {
  const gate = new ApprovalGate();
  await gate.wait('the release', 600_000);
  await nextStep();
  await sleep(100);
  return gate.received;
}

/** The history length at which the gate opened: the events a query brought are applied at a shorter one. */
export const openedAtQuery = defineQuery<number | null>('openedAt');

/**
 * A step (here a timer), then a gate, announced as a feature announces its
 * phase: its release after its last task. As in a feature, whose task's
 * outcome passes through a few functions, the gate opens some turns of the
 * event loop after the step ends.
 */
export async function stepThenGate(): Promise<ApprovalRecord[]> {
  const gate = new ApprovalGate();
  let openedAt: number | null = null;
  setHandler(openedAtQuery, () => openedAt);
  await sleep(1000);
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
  upsertMemo({ phase: 'awaiting-approval' });
  openedAt = workflowInfo().historyLength;
  await gate.wait('the release', 600_000);
  return gate.received;
}
