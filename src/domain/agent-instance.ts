import { z } from 'zod';
import { Identifier, Timestamp } from './timestamp';

/**
 * The runtime side of an agent. The spec nests AgentMetadata here; the
 * registry keeps it once, in the agent record named by `agent_id`.
 */
export const AgentInstance = z.object({
  agent_id: Identifier,
  pod_id: z.string().min(1),
  ip: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  start_time: Timestamp,
  last_heartbeat: Timestamp,
  tasks_completed: z.number().int().min(0),
  tasks_failed: z.number().int().min(0).default(0),
  avg_task_duration_ms: z.number().int().min(0),
  error_count: z.number().int().min(0),
  restart_count: z.number().int().min(0),
  tokens_used: z.number().int().min(0),
  cost_incurred: z.number().min(0),
});
export type AgentInstance = z.infer<typeof AgentInstance>;
