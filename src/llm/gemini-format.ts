import { z } from 'zod';
import type { WireFormat } from './wire-format';

const Response = z.object({
  candidates: z
    .array(z.object({ content: z.object({ parts: z.array(z.object({ text: z.string().optional() })) }) }))
    .min(1),
  usageMetadata: z.object({ promptTokenCount: z.number(), candidatesTokenCount: z.number().default(0) }),
});

/** Gemini generateContent API. */
export const geminiFormat: WireFormat<typeof Response> = {
  provider: 'gemini',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  path: (r) => `/v1beta/models/${encodeURIComponent(r.model)}:generateContent`,
  headers: (key) => ({ 'x-goog-api-key': key ?? '' }),
  body: (r) => ({
    systemInstruction: { parts: [{ text: r.system }] },
    contents: [{ role: 'user', parts: [{ text: r.prompt }] }],
    generationConfig: { maxOutputTokens: r.maxTokens },
  }),
  response: Response,
  read: (r) => ({
    text: r.candidates[0]!.content.parts.map((p) => p.text ?? '').join(''),
    inputTokens: r.usageMetadata.promptTokenCount,
    outputTokens: r.usageMetadata.candidatesTokenCount,
  }),
};
