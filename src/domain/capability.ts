import { z } from 'zod';

export const Complexity = z.enum(['Low', 'Medium', 'High', 'Critical']);
export type Complexity = z.infer<typeof Complexity>;

export const Capability = z.object({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case, e.g. "design-adr"'),
  name: z.string().min(1),
  description: z.string(),
  complexity: Complexity,
});
export type Capability = z.infer<typeof Capability>;
