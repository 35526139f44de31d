import { z } from 'zod';

/**
 * Mirrors the spec's Rust enum as serde writes it: a bare string for the unit
 * variants and `{ "Error": "reason" }` for the one that carries a message.
 */
export const AgentStatus = z.union([
  z.enum(['Active', 'Inactive', 'Updating', 'Scaling']),
  z.object({ Error: z.string().min(1) }).strict(),
]);
export type AgentStatus = z.infer<typeof AgentStatus>;

/** A one-word label for tables, search attributes and indexes. */
export function statusLabel(status: AgentStatus): string {
  return typeof status === 'string' ? status : 'Error';
}
