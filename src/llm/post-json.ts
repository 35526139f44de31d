import type { z } from 'zod';
import type { LLMProvider } from '../domain';
import { describeIssues } from '../domain';
import { LLMError } from './llm-client';

/** Retry-After as delta-seconds or an HTTP date, in milliseconds. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Providers may echo a key back in an error body: no header value survives into a message. */
function redact(text: string, headers: Record<string, string>): string {
  const secrets = Object.values(headers)
    .flatMap((v) => [v, v.replace(/^Bearer /, '')])
    .filter((v) => v.length >= 8);
  return secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
}

/**
 * POSTs JSON to a provider and validates the answer with `schema`. Headers may
 * carry keys: they are never part of an error message.
 */
export async function postJson<S extends z.ZodType>(
  provider: LLMProvider,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  schema: S,
  timeoutMs: number,
): Promise<z.infer<S>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new LLMError(
      provider,
      `request failed: ${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message}`,
      true,
    );
  }
  if (!response.ok) {
    const detail = redact((await response.text().catch(() => '')).slice(0, 300), headers);
    const retryable = response.status === 429 || response.status >= 500;
    throw new LLMError(
      provider,
      `HTTP ${response.status}: ${detail}`,
      retryable,
      response.status,
      retryAfterMs(response.headers.get('retry-after')),
    );
  }
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new LLMError(
      provider,
      `unexpected response: ${describeIssues(parsed.error, 'body').join('; ')}`,
      false,
      response.status,
    );
  return parsed.data;
}
