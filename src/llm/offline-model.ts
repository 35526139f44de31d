import { AgentRole } from '../domain/agent-role';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4Prompt,
} from '@ai-sdk/provider';

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

// "Design: Add rate limiting" → "Add rate limiting": the artifact names its subject, not the step.
const subjectOf = (prompt: string) => (firstLine(prompt, 'Task') || 'the task').replace(/^[^:]{1,40}: /, '');

/** What the role answers, in text, to a prompt: its artifact for the task the prompt names. */
export const offlineArtifact = (role: AgentRole, prompt: string) => ARTIFACTS[role](subjectOf(prompt), prompt);

/** A file name for the subject: "Add a /health endpoint" → "add-a-health-endpoint". */
const slug = (subject: string) =>
  subject
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 48) || 'change';

export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

/**
 * What each role does with the tools it is offered, one call per step, by how
 * many results it has seen: a developer writes the code and its test, a
 * documenter the docs, a reviewer searches the feature's shared context and
 * reads the change, a tester lists and reads the tests. Roles without tools,
 * or out of calls, answer in text.
 */
function plannedCalls(role: AgentRole, subject: string, prompt: string): ToolCall[] {
  // Parallel developers get parts of one feature ("Implement part 2 of 2: …"): each writes its own files.
  const part = firstLine(prompt, 'Task').match(/\bpart (\d+) of \d+/i)?.[1];
  const name = slug(subject) + (part && part !== '1' ? `-part-${part}` : '');
  const changed = [...prompt.matchAll(/^\+\+\+ b\/(.+)$/gm)].map((m) => m[1]!);
  // What earlier steps of the feature wrote about the subject, through Vapora's MCP server.
  const feature = firstLine(prompt, 'Feature');
  const search = feature ? [{ name: 'search_context', input: { query: subject, feature, k: 3 } }] : [];
  switch (role) {
    case 'developer':
      return [
        { name: 'create_directory', input: { path: 'src' } },
        { name: 'write_file', input: { path: `src/${name}.ts`, content: CODE(subject, name) } },
        { name: 'create_directory', input: { path: 'test' } },
        { name: 'write_file', input: { path: `test/${name}.test.ts`, content: TEST(subject, name) } },
      ];
    case 'documenter':
      return [
        { name: 'create_directory', input: { path: 'docs' } },
        { name: 'write_file', input: { path: `docs/${name}.md`, content: ARTIFACTS.documenter(subject, prompt) } },
      ];
    case 'code-reviewer':
      return [
        ...search,
        ...(changed.length ? changed : ['.'])
          .slice(0, 3)
          .map((path) =>
            path === '.' ? { name: 'list_directory', input: { path } } : { name: 'read_text_file', input: { path } },
          ),
      ];
    case 'tester':
      return [
        { name: 'list_directory', input: { path: 'test' } },
        ...changed.filter((p) => p.startsWith('test/')).map((path) => ({ name: 'read_text_file', input: { path } })),
      ];
    default:
      return [];
  }
}

/** The tool call the role makes next, having made `done` calls, when it is offered the tools it uses; else none. */
export function offlineToolCall(
  role: AgentRole,
  prompt: string,
  offered: string[],
  done: number,
): ToolCall | undefined {
  return plannedCalls(role, subjectOf(prompt), prompt).filter((c) => offered.includes(c.name))[done];
}

const CODE = (subject: string, name: string) =>
  `// ${subject}\nexport function ${camel(name)}(): { ok: true; feature: string } {\n  return { ok: true, feature: "${name}" };\n}\n`;
// The files a developer writes are another project's: double quotes, as most TypeScript projects have them.
const TEST = (subject: string, name: string) =>
  [
    `// ${subject}`,
    'import assert from "node:assert/strict";',
    'import { test } from "node:test";',
    `import { ${camel(name)} } from "../src/${name}";`,
    '',
    `test("${name}", () => assert.equal(${camel(name)}().ok, true));`,
    '',
  ].join('\n');
const camel = (name: string) =>
  name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/^[0-9]/, '_$&');

const textOf = (prompt: LanguageModelV4Prompt, role: 'system' | 'user') =>
  prompt
    .flatMap((m) =>
      m.role !== role
        ? []
        : typeof m.content === 'string'
          ? [m.content]
          : m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])),
    )
    .join('\n');

/** The role an agent's system prompt speaks for ("You are the Code Reviewer." → code-reviewer). */
export function roleOfSystemPrompt(system: string): AgentRole | undefined {
  const name = system.match(/^You are (?:the |an? )?([A-Za-z ]+?)\./)?.[1] ?? '';
  return AgentRole.safeParse(name.toLowerCase().replace(/ /g, '-')).data;
}

/**
 * The default model when no API key is set: an AI SDK language model that is
 * deterministic, instant and offline, answers as each role would, and calls
 * the tools it is offered as that role would, so the whole tool loop runs.
 */
export class OfflineModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider = 'offline';
  readonly modelId = 'offline';
  readonly supportedUrls = {};

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const system = textOf(options.prompt, 'system');
    const prompt = textOf(options.prompt, 'user');
    const role = roleOfSystemPrompt(system) ?? 'developer';
    const done = options.prompt.filter((m) => m.role === 'tool').length;
    const call = offlineToolCall(
      role,
      prompt,
      (options.tools ?? []).map((t) => t.name),
      done,
    );
    const content: LanguageModelV4Content[] = call
      ? [
          {
            type: 'tool-call',
            toolCallId: `offline-${done + 1}`,
            toolName: call.name,
            input: JSON.stringify(call.input),
          },
        ]
      : [{ type: 'text', text: offlineArtifact(role, prompt) }];
    const output = call ? JSON.stringify(call.input) : (content[0] as { text: string }).text;
    const input = estimateTokens(JSON.stringify(options.prompt));
    return {
      content,
      finishReason: { unified: call ? 'tool-calls' : 'stop', raw: undefined },
      usage: {
        inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: estimateTokens(output), text: estimateTokens(output), reasoning: undefined },
      },
      warnings: [],
    };
  }

  doStream(): never {
    throw new Error('the offline model answers whole calls only (doGenerate)');
  }
}
