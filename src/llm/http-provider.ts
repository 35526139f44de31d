import type { LLMClient, LLMRequest, LLMResponse } from './llm-client';
import { costUsd } from './pricing';
import { postJson } from './post-json';
import type { WireFormat } from './wire-format';

/** A real provider client: one wire format, a base URL and (except Ollama) a key that never leaves the headers. */
export class HttpProvider implements LLMClient {
  readonly provider;

  constructor(
    private readonly format: WireFormat,
    private readonly options: { apiKey?: string; baseUrl?: string; timeoutMs?: number },
  ) {
    this.provider = format.provider;
  }

  async complete(request: LLMRequest): Promise<LLMResponse> {
    const base = (this.options.baseUrl ?? this.format.defaultBaseUrl).replace(/\/$/, '');
    const answer = await postJson(
      this.provider,
      `${base}${this.format.path(request)}`,
      this.format.headers(this.options.apiKey),
      this.format.body(request),
      this.format.response,
      this.options.timeoutMs ?? 120_000,
    );
    const { text, inputTokens, outputTokens } = this.format.read(answer);
    return {
      provider: this.provider,
      model: request.model,
      text,
      inputTokens,
      outputTokens,
      costUsd: costUsd(this.provider, request.model, inputTokens, outputTokens),
    };
  }
}
