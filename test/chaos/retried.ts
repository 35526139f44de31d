import { setTimeout as sleep } from 'node:timers/promises';

/** Retries what fails while a server is being restarted (a minute at most). */
export async function retried<T>(work: () => Promise<T>, untilMs = Date.now() + 60_000): Promise<T> {
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > untilMs) throw error;
      await sleep(500);
    }
  }
}
