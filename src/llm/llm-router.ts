import { setTimeout as sleep } from 'node:timers/promises';
import { PROVIDER_VARIABLES, type LLMSettings } from '../config';
import type { LLMProvider } from '../domain';
import { anthropicFormat } from './anthropic-format';
import { geminiFormat } from './gemini-format';
import { HttpProvider } from './http-provider';
import { LLMError, type LLMClient, type LLMRequest, type LLMResponse } from './llm-client';
import { OfflineProvider } from './offline-provider';
import { ollamaFormat } from './ollama-format';
import { openaiFormat } from './openai-format';
import type { WireFormat } from './wire-format';

type RemoteProvider = keyof LLMSettings;

const FORMATS: Record<RemoteProvider, WireFormat> = {
  claude: anthropicFormat,
  openai: openaiFormat,
  gemini: geminiFormat,
  ollama: ollamaFormat,
};

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

/**
 * Picks the provider for a call: the manifest's own (the spec's optimal LLM
 * for the role) when configured, then every other configured provider in
 * turn on errors and 429s; the offline provider when none is configured.
 */
export class LLMRouter {
  private readonly clients = new Map<LLMProvider, LLMClient>();

  constructor(
    settings: LLMSettings,
    private readonly options: RouterOptions = {},
  ) {
    for (const [provider, s] of Object.entries(settings) as [
      RemoteProvider,
      NonNullable<LLMSettings[RemoteProvider]>,
    ][]) {
      this.clients.set(provider, new HttpProvider(FORMATS[provider], { ...s, timeoutMs: options.timeoutMs }));
    }
    if (this.clients.size === 0) this.clients.set('offline', new OfflineProvider());
  }

  /** The providers tried, in order, for a manifest's provider and model. */
  chain(provider: LLMProvider, model: string): { client: LLMClient; model: string }[] {
    const own = this.clients.get(provider);
    const others = [...this.clients.values()].filter((c) => c !== own);
    return [
      ...(own ? [{ client: own, model }] : []),
      ...others.map((client) => ({
        client,
        model: client.provider === 'offline' ? 'offline' : FALLBACK_MODELS[client.provider],
      })),
    ];
  }

  /** Who will answer a call for this provider and model, first in the chain (see describeModel). */
  answering(asked: ModelRef): string {
    const first = this.chain(asked.provider, asked.model)[0]!;
    return describeModel(asked, { provider: first.client.provider, model: first.model });
  }

  async complete(provider: LLMProvider, request: LLMRequest): Promise<RoutedResponse> {
    const failures: string[] = [];
    const wait = this.options.sleep ?? sleep;
    for (const { client, model } of this.chain(provider, request.model)) {
      for (let attempt = 1; ; attempt++) {
        try {
          return { ...(await client.complete({ ...request, model })), fallbacks: failures };
        } catch (error) {
          if (!(error instanceof LLMError)) throw error;
          const retryAfter = error.retryAfterMs;
          if (
            attempt === 1 &&
            error.retryable &&
            retryAfter !== undefined &&
            retryAfter <= (this.options.maxRetryAfterMs ?? 10_000)
          ) {
            await wait(retryAfter);
            continue;
          }
          failures.push(error.message);
          break;
        }
      }
    }
    throw new LLMError(provider, `every provider failed: ${failures.join(' | ')}`, true);
  }
}
