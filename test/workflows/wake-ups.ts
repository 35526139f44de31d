import { defineQuery, proxyLocalActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { WakeUp } from '../../workflows/wake-up';

/** A task's wait for an agent, cut short by a wake, then a timer of its own: the history shows which number it got. */
export async function waitThenTimer(): Promise<void> {
  const wakeUp = new WakeUp();
  await wakeUp.sleep(600_000, 'no developer agent free; waiting');
  await sleep(10, { summary: 'the next timer' });
}

const { ask } = proxyLocalActivities<{ ask(): Promise<null> }>({ startToCloseTimeout: '10s' });

/** The history length at each ask: asks a query's activation made are at a shorter one than their workflow task's. */
export const asksQuery = defineQuery<number[]>('asks');

/** A task's assignment, as `assign` in workflows/task.ts: ask for an agent (none is free), then wait, `times` times. */
export async function askAndWait(waitMs: number, times: number): Promise<void> {
  const wakeUp = new WakeUp();
  const asks: number[] = [];
  setHandler(asksQuery, () => asks);
  for (let i = 0; i < times; i++) {
    asks.push(workflowInfo().historyLength);
    await ask();
    await wakeUp.sleep(waitMs, 'no developer agent free; waiting');
  }
}
