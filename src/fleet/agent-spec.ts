import { z } from 'zod';
import { AgentRole, Identifier, SemVer } from '../domain';

/** What an agent process is told about itself (VAPORA_AGENT_SPEC), checked at its boundary. */
export const AgentSpec = z.object({
  agent_id: Identifier,
  manifest_id: Identifier,
  role: AgentRole,
  version: SemVer,
  port: z.number().int().min(1).max(65535),
  heartbeat_secs: z.number().int().min(1),
  max_concurrent_tasks: z.number().int().min(1),
});
export type AgentSpec = z.infer<typeof AgentSpec>;

/** Each agent instance polls its own task queue. */
export const agentTaskQueue = (agentId: string) => `agent-${agentId}`;
