import { CancellationScope, condition, isCancellation, setHandler, sleep } from '@temporalio/workflow';
import { wakeSignal } from '../src/contracts/messages';
import { applies } from './patches';

// Runs begun before the control plane woke waiting tasks only sleep: their histories hold no cancelled timers.
const WAKE_UP = 'assignment-wake-up';
// Runs begun before started no timer when woken before the wait began (see `sleep`).
const ALWAYS_TIMED = 'wake-up-always-timed';
// Runs begun before let a wait that ended by its timer use up a wake that came with it (see `sleep`).
const KEPT_UNTIL_USED = 'wake-kept-until-it-cuts-a-wait';

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
   * Sleeps `ms`, or less when woken or when `until` turns true. Two rules
   * keep a run replayable however the SDK groups a workflow task's events.
   * As it runs, a query may bring the events that ended a wait (its timer's
   * fire) and the SDK applies them first, in an activation of their own; the
   * rest of that workflow task (a wake) comes after. Replayed, the wake comes
   * first. So:
   * - The timer is started even when already woken, and cancelled at once
   *   (nothing goes to the server): every later timer keeps its number.
   * - A wake is used up only by a wait it cuts short or skips. One that comes
   *   with the fire of the wait's own timer is kept for the next wait, as it
   *   would be had it come just after (the chaos run left a task no worker
   *   could replay, its next ask missing).
   */
  async sleep(ms: number, summary: string, until: () => boolean = () => false): Promise<void> {
    if (!applies(WAKE_UP)) return sleep(ms, { summary });
    // Asked on every wait, woken or not: a run started by hand records its patch markers at the same place either way.
    const alwaysTimed = applies(ALWAYS_TIMED);
    const keptUntilUsed = applies(KEPT_UNTIL_USED);
    if (!this.woken || alwaysTimed) {
      const timer = new CancellationScope();
      const timed = timer.run(() => sleep(ms, { summary }));
      await Promise.race([timed, condition(() => this.woken || until())]);
      if (this.woken || until()) timer.cancel();
      const fired = await timed.then(
        () => true,
        (error: unknown) => {
          if (!isCancellation(error)) throw error;
          return false;
        },
      );
      if (fired && keptUntilUsed) return;
    }
    this.woken = false;
  }
}
