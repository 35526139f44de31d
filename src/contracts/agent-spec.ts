import { z } from 'zod';
import { AgentRole, AgentTools, Capability, Identifier, LLMProvider, SemVer, type AgentManifest } from '../domain';

/** What an agent process is told about itself (VAPORA_AGENT_SPEC), checked at its boundary. */
export const AgentSpec = z.object({
  agent_id: Identifier,
  manifest_id: Identifier,
  role: AgentRole,
  version: SemVer,
  port: z.number().int().min(1).max(65535),
  heartbeat_secs: z.number().int().min(1),
  max_concurrent_tasks: z.number().int().min(1),
  capabilities: z.array(Capability),
  llm_provider: LLMProvider,
  llm_model: z.string().min(1),
  tools: AgentTools.optional(),
  // For its agent card; optional, as instances started by an older control plane lack them.
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  skills: z.array(z.string().min(1)).optional(),
});
export type AgentSpec = z.infer<typeof AgentSpec>;

/** An instance's spec from its manifest; the deployer adds where it listens. */
export const agentSpecOf = (agentId: string, manifest: AgentManifest, port: number): AgentSpec => ({
  agent_id: agentId,
  manifest_id: manifest.id,
  role: manifest.role,
  version: manifest.version,
  port,
  heartbeat_secs: manifest.health_check.interval_secs,
  max_concurrent_tasks: manifest.max_concurrent_tasks,
  capabilities: manifest.capabilities,
  llm_provider: manifest.llm_provider,
  llm_model: manifest.llm_model,
  tools: manifest.tools,
  name: manifest.name,
  description: manifest.documentation,
  skills: manifest.skills,
});
