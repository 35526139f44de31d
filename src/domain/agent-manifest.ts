import { z } from 'zod';
import { AgentTools } from './agent-tools';
import { AgentRole } from './agent-role';
import { Capability } from './capability';
import { HealthCheckConfig } from './health-check';
import { LLMProvider } from './llm-provider';
import { SemVer } from './semver';
import { Identifier } from './timestamp';

// Docker reference grammar: [host[:port]/]path[:tag][@digest], lowercase path components.
const IMAGE_REF =
  /^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

// Kubernetes resource quantities: "500m", "2", "512Mi", "1.5Gi".
const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

export const ResourceRequirements = z.object({
  cpu: z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as "500m" or "2"'),
  memory: z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as "512Mi"'),
  cpu_limit: z.string().regex(QUANTITY, 'must be a Kubernetes quantity').optional(),
  memory_limit: z.string().regex(QUANTITY, 'must be a Kubernetes quantity').optional(),
  gpu: z.number().int().min(0).max(16).default(0),
});
export type ResourceRequirements = z.infer<typeof ResourceRequirements>;

export const AgentDependency = z.object({
  agent_id: Identifier,
  role: AgentRole,
  min_version: SemVer,
  optional: z.boolean().default(false),
});
export type AgentDependency = z.infer<typeof AgentDependency>;

export const AgentManifest = z
  .object({
    id: Identifier,
    name: z.string().min(1).max(200),
    version: SemVer,
    role: AgentRole,
    docker_image: z.string().regex(IMAGE_REF, 'must be an image reference such as "vapora/agents:developer-0.1.0"'),
    resources: ResourceRequirements,
    dependencies: z.array(AgentDependency).default([]),
    health_check_endpoint: z.string().regex(/^\/[\w\-./]*$/, 'must be an absolute HTTP path such as "/health"'),
    health_check: HealthCheckConfig,
    capabilities: z.array(Capability).min(1, 'an agent needs at least one capability'),
    skills: z.array(z.string().min(1)).default([]),
    llm_provider: LLMProvider,
    llm_model: z.string().min(1),
    max_concurrent_tasks: z.number().int().min(1).max(1000),
    /** MCP tools the agent acts through; without them it answers in text alone. */
    tools: AgentTools.optional(),
    documentation: z.string().default(''),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.dependencies.forEach((dep, i) => {
      if (dep.agent_id === m.id) {
        ctx.addIssue({
          code: 'custom',
          path: ['dependencies', i, 'agent_id'],
          message: 'an agent cannot depend on itself',
        });
      }
      if (seen.has(dep.agent_id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['dependencies', i, 'agent_id'],
          message: `duplicate dependency "${dep.agent_id}"`,
        });
      }
      seen.add(dep.agent_id);
    });
    const ids = new Set<string>();
    m.capabilities.forEach((cap, i) => {
      if (ids.has(cap.id))
        ctx.addIssue({ code: 'custom', path: ['capabilities', i, 'id'], message: `duplicate capability "${cap.id}"` });
      ids.add(cap.id);
    });
  });
export type AgentManifest = z.infer<typeof AgentManifest>;
/** What a manifest file may contain before defaults are applied. */
export type AgentManifestInput = z.input<typeof AgentManifest>;
