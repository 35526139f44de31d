import { z } from 'zod';
import { AgentRole } from './agent-role';
import { AgentStatus } from './agent-status';
import { Capability } from './capability';
import { HealthCheckConfig } from './health-check';
import { LLMProvider } from './llm-provider';
import { SemVer } from './semver';
import { Identifier, Timestamp } from './timestamp';

/** A registered agent ("developer-001"), as the spec's AgentMetadata plus the manifest it came from. */
export const AgentMetadata = z.object({
  id: Identifier,
  manifest_id: Identifier,
  role: AgentRole,
  name: z.string().min(1),
  version: SemVer,
  status: AgentStatus,
  capabilities: z.array(Capability),
  skills: z.array(z.string()),
  llm_provider: LLMProvider,
  llm_model: z.string().min(1),
  dependencies: z.array(Identifier),
  dependents: z.array(Identifier),
  health_check: HealthCheckConfig,
  max_concurrent_tasks: z.number().int().min(1),
  current_tasks: z.number().int().min(0),
  queue_depth: z.number().int().min(0),
  created_at: Timestamp,
  last_health_check: Timestamp,
  uptime_percentage: z.number().min(0).max(100),
});
export type AgentMetadata = z.infer<typeof AgentMetadata>;
