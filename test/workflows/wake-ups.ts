import { sleep } from '@temporalio/workflow';
import { WakeUp } from '../../workflows/wake-up';

/** A task's wait for an agent, cut short by a wake, then a timer of its own: the history shows which number it got. */
export async function waitThenTimer(): Promise<void> {
  const wakeUp = new WakeUp();
  await wakeUp.sleep(600_000, 'no developer agent free; waiting');
  await sleep(10, { summary: 'the next timer' });
}
