import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** No try after this long from the first. */
  withinMs?: number;
  /** Whether the failure may pass on another try; it may also do what lets the next try succeed. */
  retryable: (error: unknown) => boolean | Promise<boolean>;
  /** How long to wait after failed try number `attempt` (from 1). */
  delayMs: (attempt: number) => number;
  signal?: AbortSignal;
}

/** Runs `work` again while its failures may pass: the one retry loop outside what libraries retry themselves. */
export async function retry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const until = Date.now() + (options.withinMs ?? Infinity);
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= options.attempts || Date.now() >= until || !(await options.retryable(error))) throw error;
      await sleep(options.delayMs(attempt), undefined, { signal: options.signal });
    }
  }
}

/** A wait growing with each try, jittered so that callers failing together do not retry together. */
export const jitteredBackoff =
  (baseMs: number) =>
  (attempt: number): number =>
    (baseMs + Math.random() * baseMs) * attempt;

/**
 * Tries again while `down(error)` says the server is not there (yet), for at most `waitMs`: for a server that
 * a supervisor restarts in seconds, so that its clients wait for it rather than fail.
 */
export function whileDown(waitMs: number, down: (error: unknown) => boolean): RetryOptions {
  return {
    attempts: Infinity,
    withinMs: waitMs,
    retryable: down,
    delayMs: (attempt) => Math.min(jitteredBackoff(250)(attempt), 2_000),
  };
}

/** A connection the server's end refused or reset (restarting, or killed), at any depth of causes. */
export function connectionLost(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'CONNECTION_REFUSED') return true;
    if (/connection refused|connectionreset|connection reset|broken pipe|ECONNRE(FUSED|SET)/i.test(e.message))
      return true;
  }
  return false;
}

/**
 * Polls `check` (a throw counts as "not yet") until it returns true; fails after
 * `timeoutMs`, or at once when `failIf` returns a reason.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; failIf?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    const failure = options.failIf?.();
    if (failure) throw new Error(`${what}: ${failure}`);
    if (await check().catch(() => false)) return;
    await sleep(options.intervalMs ?? 100);
  }
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
}
