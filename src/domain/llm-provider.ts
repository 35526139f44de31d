import { z } from 'zod';

/** `offline` is the deterministic local provider used when no API key is configured. */
export const LLMProvider = z.enum(['claude', 'openai', 'gemini', 'ollama', 'offline']);
export type LLMProvider = z.infer<typeof LLMProvider>;
