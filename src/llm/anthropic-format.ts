import { z } from 'zod';
import type { WireFormat } from './wire-format';

const Response = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }),
});

/** Anthropic Messages API. */
export const anthropicFormat: WireFormat<typeof Response> = {
  provider: 'claude',
  defaultBaseUrl: 'https://api.anthropic.com',
  path: () => '/v1/messages',
  headers: (key) => ({ 'x-api-key': key ?? '', 'anthropic-version': '2023-06-01' }),
  body: (r) => ({
    model: r.model,
    max_tokens: r.maxTokens,
    system: r.system,
    messages: [{ role: 'user', content: r.prompt }],
  }),
  response: Response,
  read: (r) => ({
    text: r.content
      .filter((c) => c.type === 'text')
      .map((c) => c.text ?? '')
      .join(''),
    inputTokens: r.usage.input_tokens,
    outputTokens: r.usage.output_tokens,
  }),
};
