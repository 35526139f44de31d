import type { ModelMessage, ToolSet } from 'ai';
import type { LLMProvider } from '../domain';

/** One model call: the conversation so far and the tools the model may call (definitions only: Vapora runs them). */
export interface LLMRequest {
  model: string;
  system: string;
  /** A single prompt, or the conversation so far (tool calls and results included). */
  prompt?: string;
  messages?: ModelMessage[];
  tools?: ToolSet;
  maxTokens: number;
}

export interface LLMToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

export interface LLMResponse {
  provider: LLMProvider;
  model: string;
  text: string;
  toolCalls: LLMToolCall[];
  /** What the model said, to append to the conversation (the assistant message with its tool calls). */
  messages: ModelMessage[];
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
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
