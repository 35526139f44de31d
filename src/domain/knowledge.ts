import { z } from 'zod';
import { AgentRole } from './agent-role';
import { Timestamp } from './timestamp';

/** How long shared knowledge stays visible: a year at most. */
export const TtlMinutes = z.number().int().min(1).max(525_600);

/** One entry of shared knowledge; it stops being visible at `expires_at`. */
export const Knowledge = z.object({
  key: z.string().min(1).max(256),
  context_type: z.string().min(1),
  from_agent: z.string().min(1),
  to_roles: z.array(AgentRole),
  data: z.unknown(),
  created_at: Timestamp,
  expires_at: Timestamp,
});
export type Knowledge = z.infer<typeof Knowledge>;
