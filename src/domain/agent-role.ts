import { z } from 'zod';

/** The 13 roles of the spec, by their role ids. */
export const AGENT_ROLES = [
  'architect',
  'developer',
  'code-reviewer',
  'tester',
  'documenter',
  'marketer',
  'presenter',
  'devops',
  'monitor',
  'security',
  'project-manager',
  'decision-maker',
  'orchestrator',
] as const;

export const AgentRole = z.enum(AGENT_ROLES);
export type AgentRole = z.infer<typeof AgentRole>;
