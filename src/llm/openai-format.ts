import { z } from 'zod';
import type { WireFormat } from './wire-format';

const Response = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }),
});

/** OpenAI Chat Completions API. */
export const openaiFormat: WireFormat<typeof Response> = {
  provider: 'openai',
  defaultBaseUrl: 'https://api.openai.com',
  path: () => '/v1/chat/completions',
  headers: (key) => ({ authorization: `Bearer ${key ?? ''}` }),
  body: (r) => ({
    model: r.model,
    max_tokens: r.maxTokens,
    messages: [
      { role: 'system', content: r.system },
      { role: 'user', content: r.prompt },
    ],
  }),
  response: Response,
  read: (r) => ({
    text: r.choices[0]!.message.content ?? '',
    inputTokens: r.usage.prompt_tokens,
    outputTokens: r.usage.completion_tokens,
  }),
};
