import { z } from 'zod';
import { Identifier, Timestamp } from './timestamp';

export const Decision = z.object({
  id: Identifier,
  decision_type: z.string().min(1),
  context: z.string(),
  options: z.array(z.string().min(1)),
  decision: z.string().min(1),
  reasoning: z.string(),
  made_by: z.string().min(1),
  task_id: Identifier.optional(),
  feature_id: Identifier.optional(),
  created_at: Timestamp,
});
export type Decision = z.infer<typeof Decision>;
