import type { AgentRole } from '../domain';
import type { LLMClient, LLMRequest, LLMResponse } from './llm-client';

/** Roughly four characters per token, as the providers' own tokenizers average on English text. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

const firstLine = (prompt: string, label: string) =>
  prompt.match(new RegExp(`^${label}:\\s*(.+)$`, 'm'))?.[1]?.trim() ?? '';

/** Each role's artifact, shaped as that role's real output would be, from the task's title. */
const ARTIFACTS: Record<AgentRole, (title: string, prompt: string) => string> = {
  orchestrator: (t) =>
    JSON.stringify({
      summary: `Plan for "${t}"`,
      subtasks: [
        { role: 'architect', title: `Design: ${t}` },
        { role: 'developer', title: `Implement: ${t}` },
        { role: 'code-reviewer', title: `Review: ${t}` },
        { role: 'tester', title: `Test: ${t}` },
        { role: 'security', title: `Security review: ${t}` },
        { role: 'devops', title: `Deploy: ${t}` },
        { role: 'monitor', title: `Watch: ${t}` },
      ],
    }),
  architect: (t) =>
    `# ADR: ${t}\n\n## Status\nProposed\n\n## Context\n${t} is needed; the change must be safe to roll back.\n\n## Decision\nImplement it behind a feature flag in the service that owns the behaviour, with configuration in one place.\n\n## Consequences\n- One new module, covered by unit and integration tests.\n- Rollout is gradual; the flag is removed after a week in production.\n`,
  developer: (t) =>
    `Implemented ${t}.\n\n\`\`\`ts\n// ${t}\nexport function enabled(flags: Record<string, boolean>): boolean {\n  return flags['${t.toLowerCase().replace(/\W+/g, '-')}'] === true;\n}\n\`\`\`\n`,
  'code-reviewer': (t) => `Review of ${t}: the change is small, tested and matches the ADR.\nVERDICT: approve\n`,
  tester: (t) => `Test report for ${t}: 12 unit tests and 3 integration tests, all passing.\nVERDICT: approve\n`,
  security: (t) =>
    `Security review of ${t}: inputs validated, no secrets in logs, dependencies unchanged. No blocking finding.\nVERDICT: approve\n`,
  devops: (t) => `Deployment of ${t}: rolled out to staging, then production at 10% → 100%; health checks green.\n`,
  monitor: (t) => `Monitoring ${t}: error rate 0.1%, p99 latency unchanged over the watch window. No alert.\n`,
  documenter: (t) =>
    `# ${t}\n\n## Usage\nEnable the feature flag, then configure it in one place.\n\n## Operations\nRoll back by turning the flag off.\n`,
  marketer: (t) => `Announcing ${t}: safer, faster, and on by default soon.\n`,
  presenter: (t) => `Slides: 1. Why ${t} · 2. How it works · 3. Rollout · 4. Results\n`,
  'project-manager': (t, p) => `Status report: ${t}\n\n${firstLine(p, 'Progress') || 'All steps are on track.'}\n`,
  // Takes the first option offered: callers list options by preference.
  'decision-maker': (_t, p) => {
    const options = firstLine(p, 'Options')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    return JSON.stringify({
      decision: options[0] ?? 'abort',
      reasoning: `offline provider: first of the options offered (${options.join(', ')})`,
    });
  },
};

/**
 * The default provider when no API key is set: deterministic, instant,
 * offline, and shaped like each role's real output so the whole pipeline runs.
 */
export class OfflineProvider implements LLMClient {
  readonly provider = 'offline' as const;

  async complete(request: LLMRequest): Promise<LLMResponse> {
    // "Design: Add rate limiting" → "Add rate limiting": the artifact names its subject, not the step.
    const subject = (firstLine(request.prompt, 'Task') || 'the task').replace(/^[^:]{1,40}: /, '');
    const text = ARTIFACTS[request.role](subject, request.prompt);
    return {
      provider: 'offline',
      model: 'offline',
      text,
      inputTokens: estimateTokens(request.system + request.prompt),
      outputTokens: estimateTokens(text),
      costUsd: 0,
    };
  }
}
