import { FeaturePlan, type AgentRole, type Knowledge, type TaskContext, type TaskResult } from '../domain';
import type { ContextHit } from '../contracts/registry-api';

/** Each role's brief, from the spec's description of what the role does. */
const BRIEFS: Record<AgentRole, string> = {
  architect: 'You are the Architect. Write an Architecture Decision Record: context, decision, consequences.',
  developer: 'You are a Developer. Implement the task following the ADR; answer with the code and a short summary.',
  'code-reviewer':
    'You are a Code Reviewer. Review the code against the ADR. End with "VERDICT: approve" or "VERDICT: reject" and the reasons.',
  tester: 'You are the Tester. Write and run the tests for the code. End with "VERDICT: approve" or "VERDICT: reject".',
  documenter: 'You are the Documenter. Write the user and operator documentation for the change.',
  marketer: 'You are the Marketer. Write the release announcement.',
  presenter: 'You are the Presenter. Outline the slides that present the change.',
  devops: 'You are DevOps. Plan and report the deployment: stages, checks, rollback.',
  monitor: 'You are the Monitor. Report on the health of the change in production.',
  security:
    'You are Security. Audit the change. End with "VERDICT: approve", or "VERDICT: block" for a finding that must stop the release.',
  'project-manager': 'You are the Project Manager. Write a short status report of the feature.',
  'decision-maker':
    'You are the Decision Maker. Choose one of the options. Answer only with JSON {"decision": "<option>", "reasoning": "<why>"}.',
  orchestrator:
    'You are the Orchestrator. Plan the feature as subtasks for the roles. Answer only with JSON {"summary": "...", "subtasks": [{"role": "<role>", "title": "..."}]}.',
};

export const systemPrompt = (role: AgentRole) => `${BRIEFS[role]}\nBe precise and brief.`;

/**
 * The prompt for one task: its title and description, the inputs it was
 * handed (earlier steps' artifacts) and the shared context meant for the role.
 */
export function taskPrompt(
  task: TaskContext,
  inputs: { name: string; content: string }[],
  context: Knowledge[],
  help: string[] = [],
  passages: ContextHit[] = [],
): string {
  return [
    `Task: ${task.title}`,
    task.feature_id && `Feature: ${task.feature_id}`,
    task.description && `Description: ${task.description}`,
    task.capability && `Capability: ${task.capability}`,
    ...inputs.map((i) => `--- ${i.name} ---\n${i.content}`),
    context.length > 0 &&
      `Shared context:\n${context.map((k) => `- ${k.context_type} from ${k.from_agent}: ${JSON.stringify(k.data)}`).join('\n')}`,
    help.length > 0 && `Help offered by: ${help.join(', ')}`,
    passages.length > 0 &&
      `Relevant passages from earlier steps (cite them by source):\n${passages.map((p) => `[${p.source}] ${p.text}`).join('\n')}`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** The verdict a reviewer, tester or security agent ended with, if any. */
export function readVerdict(text: string): TaskResult['verdict'] {
  const match = [...text.matchAll(/VERDICT:\s*(approve|reject|block)/gi)].at(-1);
  return match ? (match[1]!.toLowerCase() as TaskResult['verdict']) : undefined;
}

/** The first JSON object in a model's answer (models wrap JSON in prose or fences). */
export function readJson(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

/** The Orchestrator's plan if its answer is one, else the deterministic default plan. */
export function readPlan(text: string, title: string): { plan: FeaturePlan; fallback: boolean } {
  const parsed = FeaturePlan.safeParse(readJson(text));
  if (parsed.success) return { plan: parsed.data, fallback: false };
  const steps: [AgentRole, string][] = [
    ['architect', 'Design'],
    ['developer', 'Implement'],
    ['code-reviewer', 'Review'],
    ['tester', 'Test'],
    ['security', 'Security review'],
    ['devops', 'Deploy'],
    ['monitor', 'Watch'],
  ];
  return {
    plan: {
      summary: `Default plan for "${title}"`,
      subtasks: steps.map(([role, verb]) => ({ role, title: `${verb}: ${title}` })),
    },
    fallback: true,
  };
}
