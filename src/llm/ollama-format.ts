import { z } from 'zod';
import type { WireFormat } from './wire-format';

const Response = z.object({
  message: z.object({ content: z.string() }),
  prompt_eval_count: z.number().default(0),
  eval_count: z.number().default(0),
});

/** Ollama chat API (no key; a local or self-hosted server). */
export const ollamaFormat: WireFormat<typeof Response> = {
  provider: 'ollama',
  defaultBaseUrl: 'http://localhost:11434',
  path: () => '/api/chat',
  headers: () => ({}),
  body: (r) => ({
    model: r.model,
    stream: false,
    options: { num_predict: r.maxTokens },
    messages: [
      { role: 'system', content: r.system },
      { role: 'user', content: r.prompt },
    ],
  }),
  response: Response,
  read: (r) => ({ text: r.message.content, inputTokens: r.prompt_eval_count, outputTokens: r.eval_count }),
};
