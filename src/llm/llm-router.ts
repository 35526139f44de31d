import { setTimeout as sleep } from 'node:timers/promises';
import { APICallError, generateText, type LanguageModel } from 'ai';
import { PROVIDER_VARIABLES, type LLMSettings } from '../config';
import { describeIssues, type LLMProvider } from '../domain';
import type { z } from 'zod';
import { LLMError, type LLMRequest, type LLMResponse, type LLMToolCall } from './llm-client';
import { OfflineModel } from './offline-model';
import { costUsd } from './pricing';
import { languageModel, type RemoteProvider } from './provider-models';

/** The model a fallback provider is asked for when the manifest named another provider. */
export const FALLBACK_MODELS: Record<RemoteProvider, string> = {
  claude: 'claude-sonnet-4-5',
  openai: 'gpt-4.1',
  gemini: 'gemini-2.5-pro',
  ollama: 'llama3.1',
};

export interface RouterOptions {
  /** A 429/5xx that asks to wait at most this long is retried on the same provider; longer waits fall through. */
  maxRetryAfterMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** A provider and model, as a manifest names them or as one answered. */
export interface ModelRef {
  provider: LLMProvider;
  model: string;
}

/**
 * Who answers (or answered) a call for the `asked` model, for people: when a
 * stand-in answers, it says so, and how to reach the model asked for.
 */
export function describeModel(asked: ModelRef, answering: ModelRef): string {
  if (answering.provider === asked.provider)
    return answering.provider === 'offline' ? 'offline model' : `${asked.provider} ${answering.model}`;
  if (asked.provider === 'offline') return `${answering.provider} ${answering.model}`;
  const variable = PROVIDER_VARIABLES[asked.provider];
  if (answering.provider === 'offline') return `offline model (no ${variable}; set it to use ${asked.model})`;
  return `${answering.provider} ${answering.model} (in place of ${asked.provider} ${asked.model})`;
}

/** One call's answer, and the providers that failed before it (without their keys). */
export type RoutedResponse = LLMResponse & { fallbacks: string[] };

/** A configured provider: its AI SDK model for a model id, and its key, never to appear in a message. */
interface Provider {
  provider: LLMProvider;
  model(id: string): LanguageModel;
  secret?: string;
}

/**
 * Picks the provider for a call: the manifest's own (the spec's optimal LLM
 * for the role) when configured, then every other configured provider in
 * turn on errors and 429s; the offline model when none is configured. The AI
 * SDK speaks each provider's wire format; retries and fallbacks are Vapora's.
 */
export class LLMRouter {
  private readonly providers = new Map<LLMProvider, Provider>();

  constructor(
    settings: LLMSettings,
    private readonly options: RouterOptions = {},
  ) {
    for (const [provider, s] of Object.entries(settings) as [
      RemoteProvider,
      NonNullable<LLMSettings[RemoteProvider]>,
    ][])
      this.providers.set(provider, { provider, model: (id) => languageModel(provider, s, id), secret: s.apiKey });
    if (this.providers.size === 0)
      this.providers.set('offline', { provider: 'offline', model: () => new OfflineModel() });
  }

  /** The providers tried, in order, for a manifest's provider and model. */
  chain(provider: LLMProvider, model: string): { provider: Provider; model: string }[] {
    const own = this.providers.get(provider);
    const others = [...this.providers.values()].filter((p) => p !== own);
    return [
      ...(own ? [{ provider: own, model }] : []),
      ...others.map((p) => ({
        provider: p,
        model: p.provider === 'offline' ? 'offline' : FALLBACK_MODELS[p.provider],
      })),
    ];
  }

  /** Who will answer a call for this provider and model, first in the chain (see describeModel). */
  answering(asked: ModelRef): string {
    const first = this.chain(asked.provider, asked.model)[0]!;
    return describeModel(asked, { provider: first.provider.provider, model: first.model });
  }

  async complete(provider: LLMProvider, request: LLMRequest): Promise<RoutedResponse> {
    const failures: string[] = [];
    const wait = this.options.sleep ?? sleep;
    for (const route of this.chain(provider, request.model)) {
      for (let attempt = 1; ; attempt++) {
        try {
          return { ...(await this.call(route.provider, route.model, request)), fallbacks: failures };
        } catch (error) {
          const failure = asLLMError(route.provider, error);
          const retryAfter = failure.retryAfterMs;
          if (
            attempt === 1 &&
            failure.retryable &&
            retryAfter !== undefined &&
            retryAfter <= (this.options.maxRetryAfterMs ?? 10_000)
          ) {
            await wait(retryAfter);
            continue;
          }
          failures.push(failure.message);
          break;
        }
      }
    }
    throw new LLMError(provider, `every provider failed: ${failures.join(' | ')}`, true);
  }

  private async call(route: Provider, model: string, request: LLMRequest): Promise<LLMResponse> {
    const { provider } = route;
    const conversation = request.messages ? { messages: request.messages } : { prompt: request.prompt ?? '' };
    const result = await generateText({
      model: route.model(model),
      system: request.system,
      ...conversation,
      tools: request.tools,
      maxOutputTokens: request.maxTokens,
      maxRetries: 0,
      abortSignal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
    });
    const inputTokens = result.usage.inputTokens ?? 0;
    const outputTokens = result.usage.outputTokens ?? 0;
    return {
      provider,
      model,
      text: result.text,
      toolCalls: result.toolCalls.map(({ toolCallId, toolName, input }): LLMToolCall => ({
        toolCallId,
        toolName,
        input: input as unknown,
      })),
      messages: result.response.messages,
      inputTokens,
      outputTokens,
      costUsd: costUsd(provider, model, inputTokens, outputTokens),
    };
  }
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The fields that did not match, from the schema error the SDK's validation carries as a cause. */
function describeCause(error: Error): string {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause)
    if ('issues' in cause && Array.isArray(cause.issues))
      return describeIssues(cause as unknown as { issues: z.core.$ZodIssue[] }, 'body').join('; ');
  return error.message;
}

/**
 * What went wrong with a call, for the fallback chain and for people: the
 * HTTP status and the start of the provider's answer, with the key (which
 * providers may echo back) redacted.
 */
function asLLMError({ provider, secret }: Provider, error: unknown): LLMError {
  const redact = (text: string) => (secret && secret.length >= 8 ? text.split(secret).join('[redacted]') : text);
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    // A 2xx whose body is not the provider's wire format: what did not match, from the SDK's validation.
    if (status && status < 300)
      return new LLMError(
        provider,
        `unexpected response: ${redact(describeCause(error)).slice(0, 300)}`,
        false,
        status,
      );
    const detail = redact((error.responseBody ?? error.message).slice(0, 300));
    return new LLMError(
      provider,
      status ? `HTTP ${status}: ${detail}` : `request failed: ${detail}`,
      error.isRetryable,
      status,
      retryAfterMs(error.responseHeaders?.['retry-after']),
    );
  }
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  if (name === 'TimeoutError' || name === 'AbortError') return new LLMError(provider, 'no answer in time', true);
  return new LLMError(provider, `unexpected response: ${redact(message).slice(0, 300)}`, false);
}
