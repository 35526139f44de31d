import { proxyLocalActivities, sleep } from '@temporalio/workflow';
import { ApprovalGate } from '../../workflows/approval-gate';
import type { ApprovalRecord } from '../../src/contracts/approval';

const { nextStep } = proxyLocalActivities<{ nextStep(): Promise<null> }>({ startToCloseTimeout: '10s' });

/** A gate, then what a task does next (asks for an agent locally, then waits): the shape the chaos run broke. */
export async function gateThenStep(): Promise<ApprovalRecord[]> {
  const gate = new ApprovalGate();
  await gate.wait('the release', 600_000);
  await nextStep();
  await sleep(100);
  return gate.received;
}
