import type { z } from 'zod';
import type { LLMProvider } from '../domain';
import type { LLMRequest } from './llm-client';

/** How one provider's HTTP API is spoken: where to POST, what to send, how to read the answer. */
export interface WireFormat<S extends z.ZodType = z.ZodType> {
  provider: LLMProvider;
  defaultBaseUrl: string;
  path(request: LLMRequest): string;
  headers(apiKey: string | undefined): Record<string, string>;
  body(request: LLMRequest): unknown;
  response: S;
  read(response: z.infer<S>): { text: string; inputTokens: number; outputTokens: number };
}
