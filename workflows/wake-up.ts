import { CancellationScope, condition, isCancellation, setHandler, sleep } from '@temporalio/workflow';
import { wakeSignal } from '../src/contracts/messages';
import { applies } from './patches';

// Runs begun before the control plane woke waiting tasks only sleep: their histories hold no cancelled timers.
const WAKE_UP = 'assignment-wake-up';
// Runs begun before started no timer when woken before the wait began (see `sleep`).
const ALWAYS_TIMED = 'wake-up-always-timed';

/**
 * A wait for an agent that the control plane cuts short with the `wake`
 * signal when a slot is free for this task (its turn in the role's queue),
 * so a freed slot does not sit idle until the task asks again.
 */
export class WakeUp {
  private woken = false;

  constructor() {
    setHandler(wakeSignal, () => {
      this.woken = true;
    });
  }

  /** The longest wait between two asks: woken for its turn, a task need not ask often (see FleetView's WAITER_GONE_MS);
   * after a control plane's restart it is woken too (wakeWaitingTasks). */
  get longestWaitMs(): number {
    return applies(WAKE_UP) ? 30_000 : 10_000;
  }

  /**
   * Sleeps `ms`, or less when woken or when `until` turns true. The timer is
   * started even when already woken, and then cancelled at once (nothing goes
   * to the server): a wake that comes with the ask's result in one workflow
   * task may be handed over before that result or after it, and the SDK
   * groups them one way as the run goes and another on replay (the chaos run
   * left a task no worker could replay, its later timers numbered one apart).
   * Started either way, every later timer keeps its number.
   */
  async sleep(ms: number, summary: string, until: () => boolean = () => false): Promise<void> {
    if (!applies(WAKE_UP)) return sleep(ms, { summary });
    // Asked on every wait, woken or not: a run started by hand records its patch marker at the same place either way.
    const alwaysTimed = applies(ALWAYS_TIMED);
    if (!this.woken || alwaysTimed) {
      const timer = new CancellationScope();
      const timed = timer.run(() => sleep(ms, { summary }));
      await Promise.race([timed, condition(() => this.woken || until())]);
      if (this.woken || until()) timer.cancel();
      await timed.catch((error: unknown) => {
        if (!isCancellation(error)) throw error;
      });
    }
    this.woken = false;
  }
}
