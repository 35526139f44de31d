import { z } from 'zod';
import { Identifier, Timestamp } from './timestamp';

/** What an agent carries from task to task (the spec's SharedContext.agent_states). */
export const AgentState = z.object({
  agent_id: Identifier,
  current_task: Identifier.nullable(),
  last_action: Timestamp,
  available_until: Timestamp,
  context_from_previous_tasks: z.array(z.string()),
});
export type AgentState = z.infer<typeof AgentState>;
