import { z } from 'zod';
import { AgentRole } from './agent-role';
import { namedRecord } from './named-record';
import { Identifier, Timestamp } from './timestamp';

export const TaskPriority = z.enum(['low', 'normal', 'high', 'critical']);
export type TaskPriority = z.infer<typeof TaskPriority>;

/** What an agent is given to work on. Large inputs travel as artifact references, not inline. */
export const TaskContext = z.object({
  task_id: Identifier,
  feature_id: Identifier.optional(),
  role: AgentRole,
  capability: z.string().min(1).optional(),
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).default(''),
  priority: TaskPriority.default('normal'),
  inputs: namedRecord(z.string(), z.string()).default({}),
  /** The feature's workspace (a git repository the agent clones and pushes to), when the task has one. */
  workspace: z.string().min(1).optional(),
});
export type TaskContext = z.infer<typeof TaskContext>;

export const ArtifactRef = z.object({
  id: Identifier,
  kind: z.string().min(1),
  title: z.string(),
  bytes: z.number().int().min(0),
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;

/** The Orchestrator's plan for a feature: which role does what, in its words. */
export const FeaturePlan = z.object({
  summary: z.string(),
  subtasks: z
    .array(z.object({ role: AgentRole, title: z.string().min(1).max(500) }))
    .min(1)
    .max(50),
});
export type FeaturePlan = z.infer<typeof FeaturePlan>;

export const TaskResult = z.object({
  success: z.boolean(),
  summary: z.string(),
  /** approve/reject for reviews; block for a security finding that stops the line. */
  verdict: z.enum(['approve', 'reject', 'block']).optional(),
  artifacts: z.array(ArtifactRef).default([]),
  /** Only the Orchestrator's planning task returns one. */
  plan: FeaturePlan.optional(),
  /** The workspace commit that holds what the task changed (absent when it changed nothing). */
  commit: z.string().optional(),
  files: z.array(z.string()).optional(),
});
export type TaskResult = z.infer<typeof TaskResult>;

export const TaskStatus = z.enum(['pending', 'assigned', 'running', 'completed', 'failed', 'escalated', 'cancelled']);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** A task as the registry tracks it (the spec's SharedContext.active_tasks). */
export const TaskRecord = z.object({
  id: Identifier,
  feature_id: Identifier.optional(),
  role: AgentRole,
  title: z.string().min(1),
  status: TaskStatus,
  agent_id: Identifier.optional(),
  priority: TaskPriority,
  deadline: Timestamp.optional(),
  retry_count: z.number().int().min(0),
  result: TaskResult.optional(),
  /** The model that answered the last attempt, as people read it (`offline model (no ANTHROPIC_API_KEY; …)`). */
  llm: z.string().optional(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type TaskRecord = z.infer<typeof TaskRecord>;
