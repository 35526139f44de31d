import type { AgentRole, LLMProvider } from '../domain';

export interface LLMRequest {
  model: string;
  system: string;
  prompt: string;
  maxTokens: number;
  /** The role asking: the offline provider shapes its artifact by it. */
  role: AgentRole;
}

export interface LLMResponse {
  provider: LLMProvider;
  model: string;
  text: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface LLMClient {
  readonly provider: LLMProvider;
  complete(request: LLMRequest): Promise<LLMResponse>;
}

/** A provider call that failed; `retryable` for 429, 5xx and network errors, with the wait the provider asked for. */
export class LLMError extends Error {
  override readonly name = 'LLMError';
  constructor(
    readonly provider: LLMProvider,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(`${provider}: ${message}`);
  }
}
