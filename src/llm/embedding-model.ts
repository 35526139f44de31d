import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { embedMany, type EmbeddingModel } from 'ai';
import { createOllama } from 'ollama-ai-provider-v2';
import type { EmbeddingProvider, EmbeddingSettings, ProviderSettings } from '../config';

/** Turns texts into vectors for retrieval: one vector per text, in order. */
export interface Embedder {
  /** `<provider>:<model>`: vectors of another model are not compared with this one's. */
  readonly model: string;
  embed(texts: string[]): Promise<number[][]>;
}

const trimmed = (url: string) => url.replace(/\/$/, '');

/** Each provider's AI SDK embedding model; a base URL names the server, as for the language models. */
const MODELS: Record<EmbeddingProvider, (settings: ProviderSettings, model: string) => EmbeddingModel> = {
  openai: ({ apiKey, baseUrl }, model) =>
    createOpenAI({ apiKey, baseURL: baseUrl && `${trimmed(baseUrl)}/v1` }).embedding(model),
  gemini: ({ apiKey, baseUrl }, model) =>
    createGoogleGenerativeAI({ apiKey, baseURL: baseUrl && `${trimmed(baseUrl)}/v1beta` }).embedding(model),
  ollama: ({ baseUrl }, model) =>
    createOllama({ baseURL: `${trimmed(baseUrl ?? 'http://127.0.0.1:11434')}/api` }).embedding(model),
};

/** The configured embedding model through the AI SDK (`embedMany` batches and retries as the provider allows). */
export function createEmbedder({ provider, model, settings }: EmbeddingSettings): Embedder {
  const embeddingModel = MODELS[provider](settings, model);
  return {
    model: `${provider}:${model}`,
    async embed(texts) {
      if (!texts.length) return [];
      const { embeddings } = await embedMany({ model: embeddingModel, values: texts, maxRetries: 2 });
      return embeddings;
    },
  };
}
