import { z } from 'zod';
import { Identifier, Timestamp } from './timestamp';

/** A large output (ADR, code, report) kept in the registry so workflow history carries only its reference. */
export const Artifact = z.object({
  id: Identifier,
  kind: z.string().min(1),
  title: z.string(),
  content: z.string(),
  feature_id: Identifier.optional(),
  task_id: Identifier.optional(),
  /** Who wrote it (an agent id, `pool:<manifest>` or `operator`), so no one else overwrites it; absent before 0.4. */
  writer: z.string().optional(),
  created_at: Timestamp,
});
export type Artifact = z.infer<typeof Artifact>;
