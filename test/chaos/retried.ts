import { setTimeout as sleep } from 'node:timers/promises';

/** Retries what fails while a server is being restarted (a minute at most, or until `signal` aborts). */
export async function retried<T>(
  work: () => Promise<T>,
  untilMs = Date.now() + 60_000,
  signal?: AbortSignal,
): Promise<T> {
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > untilMs || signal?.aborted) throw error;
      await sleep(500);
    }
  }
}
