import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import { createOllama } from 'ollama-ai-provider-v2';
import type { LLMSettings, ProviderSettings } from '../config';

export type RemoteProvider = keyof LLMSettings;

/**
 * Each remote provider's AI SDK model. A base URL names the server (as the
 * providers' own variables do, without the API path), so a local server
 * speaking the wire format stands in for the provider in tests. The key goes
 * into the provider's header and nowhere else.
 */
const MODELS: Record<RemoteProvider, (settings: ProviderSettings, model: string) => LanguageModel> = {
  claude: ({ apiKey, baseUrl }, model) =>
    createAnthropic({ apiKey, baseURL: baseUrl && `${trimmed(baseUrl)}/v1` })(model),
  // Chat Completions: the wire format every OpenAI-compatible server speaks too.
  openai: ({ apiKey, baseUrl }, model) =>
    createOpenAI({ apiKey, baseURL: baseUrl && `${trimmed(baseUrl)}/v1` }).chat(model),
  gemini: ({ apiKey, baseUrl }, model) =>
    createGoogleGenerativeAI({ apiKey, baseURL: baseUrl && `${trimmed(baseUrl)}/v1beta` })(model),
  ollama: ({ baseUrl }, model) =>
    createOllama({ baseURL: `${trimmed(baseUrl ?? 'http://127.0.0.1:11434')}/api` })(model),
};

const trimmed = (url: string) => url.replace(/\/$/, '');

export const languageModel = (provider: RemoteProvider, settings: ProviderSettings, model: string): LanguageModel =>
  MODELS[provider](settings, model);
