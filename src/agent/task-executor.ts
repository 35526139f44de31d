import { AGENT_ROLES, parse, type AgentRole, type TaskContext } from '../domain';
import type { EventBus } from '../bus/event-bus';
import type { RegistryClient } from '../client/registry-client';
import type { AgentSpec } from '../contracts/agent-spec';
import { describeModel, type LLMRouter } from '../llm/llm-router';
import { readPlan, readVerdict, systemPrompt, taskPrompt } from './agent-prompt';
import { AgentTaskInput, type AgentTaskOutput } from '../contracts/agent-task';

/** The kind of artifact each role produces. */
const ARTIFACT_KIND: Record<AgentRole, string> = {
  architect: 'adr',
  developer: 'code',
  'code-reviewer': 'review',
  tester: 'test-report',
  documenter: 'docs',
  marketer: 'announcement',
  presenter: 'slides',
  devops: 'deployment-report',
  monitor: 'monitoring-report',
  security: 'security-audit',
  'project-manager': 'status-report',
  'decision-maker': 'decision',
  orchestrator: 'plan',
};

/** Shared context lives this long: a working day of a feature. */
const CONTEXT_TTL_MINUTES = 24 * 60;

export type Progress = (percent: number, step: string) => Promise<void>;

/**
 * Runs one task on this agent: reads its inputs and the shared context for
 * its role, asks its LLM (through the router's fallback chain), stores the
 * output as an artifact, shares a summary, and reports progress on the way.
 */
export class TaskExecutor {
  constructor(
    private readonly spec: AgentSpec,
    private readonly deps: { bus: EventBus; registry: RegistryClient; router: LLMRouter },
  ) {}

  async execute(raw: AgentTaskInput, progress: Progress): Promise<AgentTaskOutput> {
    const started = Date.now();
    const { task, attempt } = parse(AgentTaskInput, raw, 'task input');
    const { bus, registry, router } = this.deps;
    await bus.publish(
      { type: 'TaskStarted', task_id: task.task_id, agent_id: this.spec.agent_id, timestamp: new Date().toISOString() },
      `${task.task_id}/started/${attempt}`,
    );

    await progress(10, 'reading inputs and shared context');
    const scope = task.feature_id ?? task.task_id;
    const [inputs, context, help] = await Promise.all([
      Promise.all(
        Object.entries(task.inputs).map(async ([name, id]) => ({
          name,
          content: (await registry.artifact(id))?.content ?? `(artifact ${id} is gone)`,
        })),
      ),
      registry.knowledge({ role: task.role, scope }),
      this.askForHelp(task),
    ]);

    const asked = { provider: this.spec.llm_provider, model: this.spec.llm_model };
    await progress(30, `asking ${router.answering(asked)}`);
    const answer = await router.complete(this.spec.llm_provider, {
      model: this.spec.llm_model,
      system: systemPrompt(task.role),
      prompt: taskPrompt(task, inputs, context, help),
      maxTokens: 4096,
      role: task.role,
    });

    await progress(80, 'storing the artifact');
    const kind = ARTIFACT_KIND[task.role];
    const artifact = await registry.putArtifact({
      id: `${task.task_id}-a${attempt}`,
      kind,
      title: task.title,
      content: answer.text,
      feature_id: task.feature_id,
      task_id: task.task_id,
    });
    const summary = answer.text.replace(/\s+/g, ' ').trim().slice(0, 200);
    const shared = {
      key: `${scope}/${task.role}`,
      context_type: kind,
      from_agent: this.spec.agent_id,
      to_roles: [],
      data: { summary, artifact: artifact.id },
      ttl_minutes: CONTEXT_TTL_MINUTES,
    };
    await registry.shareKnowledge(shared);
    await bus.publish({ type: 'ShareContext', ...shared });

    const plan = task.role === 'orchestrator' ? readPlan(answer.text, task.title) : undefined;
    await progress(100, plan?.fallback ? 'done (default plan: the answer was not a valid plan)' : 'done');
    return {
      result: { success: true, summary, verdict: readVerdict(answer.text), artifacts: [artifact], plan: plan?.plan },
      usage: {
        provider: answer.provider,
        model: answer.model,
        input_tokens: answer.inputTokens,
        output_tokens: answer.outputTokens,
        cost_usd: answer.costUsd,
        fallbacks: answer.fallbacks,
        answered_by: describeModel(asked, { provider: answer.provider, model: answer.model }),
      },
      duration_ms: Date.now() - started,
    };
  }

  /** A task outside this agent's capabilities asks the other roles for help; the first offer joins the prompt. */
  private async askForHelp(task: TaskContext): Promise<string[]> {
    if (!task.capability || this.spec.capabilities.some((c) => c.id === task.capability)) return [];
    const deadline = new Date(Date.now() + 2_000).toISOString();
    const to_roles = AGENT_ROLES.filter((r) => r !== this.spec.role);
    try {
      const offer = await this.deps.bus.request(
        {
          type: 'RequestHelp',
          from_agent: this.spec.agent_id,
          to_roles,
          context: `${task.capability}: ${task.title}`,
          deadline,
        },
        { timeoutMs: 2_000 },
      );
      return offer.type === 'HelpOffered' ? [`${offer.from_agent} (${offer.capability.name})`] : [];
    } catch {
      return [];
    }
  }
}
