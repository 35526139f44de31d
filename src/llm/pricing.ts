import type { LLMProvider } from '../domain';

/** USD per million input and output tokens; a model not listed is priced by its provider's default. */
const PRICES: Record<string, [number, number]> = {
  'claude-opus-4-1': [15, 75],
  'claude-sonnet-4-5': [3, 15],
  'claude-haiku-4-5': [1, 5],
  'gpt-4.1': [2, 8],
  'gpt-4o': [2.5, 10],
  'gpt-4o-mini': [0.15, 0.6],
  'gemini-2.5-pro': [1.25, 10],
  'gemini-2.5-flash': [0.3, 2.5],
};
const PROVIDER_DEFAULT: Record<LLMProvider, [number, number]> = {
  claude: [3, 15],
  openai: [2, 8],
  gemini: [0.3, 2.5],
  ollama: [0, 0],
  offline: [0, 0],
};

export function costUsd(provider: LLMProvider, model: string, inputTokens: number, outputTokens: number): number {
  const [input, output] = PRICES[model] ?? PROVIDER_DEFAULT[provider];
  return (inputTokens * input + outputTokens * output) / 1_000_000;
}
