import type { z } from 'zod';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { ModelMessage, ToolResultPart } from 'ai';
import { AGENT_ROLES, parse, type AgentRole, type TaskContext } from '../domain';
import { askForHelp, type EventBus } from '../bus/event-bus';
import type { RegistryClient } from '../client/registry-client';
import type { AgentSpec } from '../contracts/agent-spec';
import type { ContextHit, NewArtifact, NewKnowledge, WritesDone } from '../contracts/registry-api';
import {
  ModelCallInput,
  ToolCallInput,
  type AgentTaskInput,
  type AgentTaskOutput,
  type LLMUsage,
  type ModelCallOutput,
  type ToolCallOutput,
} from '../contracts/agent-task';
import { LLMError } from '../llm/llm-client';
import { describeModel, type LLMRouter } from '../llm/llm-router';
import { readPlan, readVerdict, systemPrompt, taskPrompt } from './agent-prompt';
import { McpToolbox } from './mcp-toolbox';
import { SpanKind, inSpan } from '../observability/tracing';
import { localRemote, WorkingCopy } from './working-copy';

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

/** Passages of earlier steps in a prompt: about a thousand tokens. */
const PASSAGE_BUDGET = 4_000;

/** Shared context lives this long: a working day of a feature. */
const CONTEXT_TTL_MINUTES = 24 * 60;

/**
 * Reports a progress line: announced `now` (the default: the model asked, the tool called, each shown live), or
 * only if it is still the current line a moment later (`if-lasting`: the task's own bookkeeping, mostly quick).
 */
export type Progress = (percent: number, step: string, when?: 'now' | 'if-lasting') => Promise<void>;

/** The opening of a task's conversation, and each LLM answer and tool result after it: artifacts, read back by id. */
interface Opening {
  prompt: string;
  /** When the attempt began (openings stored before it was kept here: the artifact's own creation time). */
  began_at?: string;
}
interface Answer {
  messages: ModelMessage[];
  text: string;
  tool_calls: { id: string; name: string; input: unknown }[];
  usage: LLMUsage;
}
interface ToolResult {
  tool_call_id: string;
  tool_name: string;
  text: string;
  is_error: boolean;
}

/** Why a task ended before its model was done. */
type Stopped = 'max-steps' | 'budget';

/** What one attempt of a task holds open in this process: its clone of the workspace and its MCP servers. */
interface Session {
  copy?: WorkingCopy;
  toolbox?: McpToolbox;
}

const short = (value: unknown, max = 80) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** A tool call for people (Web UI, events): its name and its path, or its arguments in short. */
const describeCall = (name: string, input: unknown) => {
  const path = (input as { path?: unknown } | undefined)?.path;
  return `${name} ${typeof path === 'string' ? path : short(input, 60)}`;
};

/**
 * Runs tasks on this agent as a loop the task workflow drives, one activity
 * per call: `callModel` makes the next LLM call (the first also reads the
 * inputs and opens the conversation; the last commits what the tools changed
 * and stores the result), `callTool` runs one tool call it asked for. Every
 * answer and tool result is stored as an artifact before the call that got
 * it ends (or pushes), so history carries summaries only, and a call asked
 * again after a crash returns what was stored instead of paying for the LLM
 * call twice. What a call stores goes in one request: the opening with the
 * first answer, and for a last call, its answer with the result and what it
 * shares.
 */
export class TaskExecutor {
  private readonly sessions = new Map<string, Promise<Session>>();
  /**
   * The parts of each open attempt this process stored or read (by artifact
   * id): each is written once and never changes, so only the first look (is
   * there one from before a crash?) needs the registry.
   */
  private readonly parts = new Map<string, unknown>();
  /** Attempts this process began: every part of theirs went through it, so one it has not seen does not exist. */
  private readonly begun = new Set<string>();
  /** Parts kept but not yet stored, by attempt, in the order they came: the next `flush` stores them. */
  private readonly unsent = new Map<string, NewArtifact[]>();

  constructor(
    private readonly spec: AgentSpec,
    private readonly deps: {
      bus: EventBus;
      registry: RegistryClient;
      router: LLMRouter;
      workDir: string;
      /** The agent's own token, for pushes to workspaces served over HTTP. */
      token?: string;
      /** The workspaces' directory when this agent shares the control plane's disk (see ProcessDeployerOptions). */
      workspacesDir?: string;
    },
  ) {}

  /**
   * The `step`th LLM call of a task. The first also begins it (reads its
   * inputs and opens the conversation); one whose answer asks for no tool, or
   * that reaches the manifest's step limit or the budget, also finishes it.
   */
  async callModel(raw: ModelCallInput, progress: Progress, retried = true): Promise<ModelCallOutput> {
    const input = parse(ModelCallInput, raw, 'model call');
    return this.forgetting(input, this.modelCall(input, progress, retried));
  }

  async callTool(raw: ToolCallInput, progress: Progress): Promise<ToolCallOutput> {
    const input = parse(ToolCallInput, raw, 'tool call');
    return this.forgetting(input, this.toolCall(input, progress));
  }

  /** A failed call leaves nothing held: its retry reads the registry afresh. */
  private forgetting<T>({ task, attempt }: { task: TaskContext; attempt: number }, call: Promise<T>): Promise<T> {
    return call.catch((error: unknown) => {
      this.forget(task, attempt);
      throw error;
    });
  }

  private async modelCall(
    { task, attempt, step, budget_usd }: z.output<typeof ModelCallInput>,
    progress: Progress,
    retried: boolean,
  ): Promise<ModelCallOutput> {
    if (step === 1) await this.begin(task, attempt, progress, retried);
    // Answered before a crash: the answer is stored, and the call is not paid twice.
    const answer =
      (await this.load<Answer>(task, attempt, `m${step}`)) ?? (await this.ask(task, attempt, step, progress));
    const finish = (stopped?: Stopped) =>
      this.finish(task, attempt, step, stopped, progress).then((output) => ({ output }));
    if (!answer.tool_calls.length) return finish();
    if (step >= (this.spec.tools?.max_steps ?? 1)) return finish('max-steps');
    if (budget_usd !== undefined && answer.usage.cost_usd >= budget_usd) return finish('budget');
    await this.flush(task, attempt);
    return {
      tool_calls: answer.tool_calls.map((c) => ({ id: c.id, name: c.name, summary: describeCall(c.name, c.input) })),
      usage: answer.usage,
    };
  }

  private async toolCall(
    { task, attempt, step, call_id }: z.output<typeof ToolCallInput>,
    progress: Progress,
  ): Promise<ToolCallOutput> {
    const answer = await this.load<Answer>(task, attempt, `m${step}`);
    const index = answer?.tool_calls.findIndex((c) => c.id === call_id) ?? -1;
    if (!answer || index < 0)
      throw ApplicationFailure.create({
        type: 'UnknownToolCall',
        message: `step ${step} of task ${task.task_id} asked for no tool call ${call_id}`,
        nonRetryable: true,
      });
    const call = answer.tool_calls[index]!;
    let result = await this.load<ToolResult>(task, attempt, `t${step}-${index}`);
    if (!result) {
      await progress(this.percent(step), `step ${step}: ${describeCall(call.name, call.input)}`);
      const { toolbox } = await this.session(task, attempt);
      if (!toolbox)
        throw ApplicationFailure.create({
          type: 'ToolNotAllowed',
          message: `the model asked for tool "${call.name}", but ${this.spec.agent_id} declares no tools`,
          nonRetryable: true,
        });
      const outcome = await inSpan(
        `execute_tool ${call.name}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': call.name,
            'gen_ai.tool.call.id': call.id,
          },
        },
        () => toolbox.call(call.name, call.input),
      ).catch(async (error: unknown) => {
        // A server that failed mid-call starts afresh for the next attempt; the working copy stays.
        if (error instanceof ApplicationFailure && error.type === 'McpServerFailed') {
          this.sessions.delete(`${task.task_id}/${attempt}`);
          await toolbox.close();
        }
        throw error;
      });
      result = await this.store<ToolResult>(task, attempt, `t${step}-${index}`, {
        tool_call_id: call.id,
        tool_name: call.name,
        text: outcome.text,
        is_error: outcome.isError,
      });
    }
    return { ok: !result.is_error, summary: short(result.text, 200) };
  }

  /**
   * The whole loop in one activity, for task runs started before each call
   * was an activity of its own (they still schedule `executeTask`).
   */
  async execute(raw: AgentTaskInput, progress: Progress, retried = true): Promise<AgentTaskOutput> {
    for (let step = 1; ; step++) {
      const answer = await this.callModel({ ...raw, step }, progress, retried);
      if ('output' in answer) return answer.output;
      for (const call of answer.tool_calls) await this.callTool({ ...raw, step, call_id: call.id }, progress);
    }
  }

  /** Closes what every open attempt holds (the agent is stopping). */
  async closeAll(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map(async (s) => (await s.catch((): Session => ({}))).toolbox?.close()));
  }

  /**
   * Reads the task's inputs and opens its conversation, once: a retried first call finds it open. A call run for
   * the first time (not `retried`) has nothing from before to find, and does not ask the registry.
   */
  private async begin(task: TaskContext, attempt: number, progress: Progress, retried: boolean): Promise<void> {
    if (retried && (await this.load(task, attempt, 'c0'))) return;
    const { bus, registry } = this.deps;
    await bus.publish(
      { type: 'TaskStarted', task_id: task.task_id, agent_id: this.spec.agent_id, timestamp: new Date().toISOString() },
      `${task.task_id}/started/${attempt}`,
    );
    await progress(5, 'reading inputs and shared context', 'if-lasting');
    const [inputs, context, help, passages] = await Promise.all([
      Promise.all(
        Object.entries(task.inputs).map(async ([name, id]) => ({
          name,
          content: (await registry.artifact(id))?.content ?? `(artifact ${id} is gone)`,
        })),
      ),
      registry.knowledge({ role: task.role, scope: task.feature_id ?? task.task_id }),
      this.askForHelp(task),
      this.relevantPassages(task),
    ]);
    this.keep<Opening>(task, attempt, 'c0', {
      prompt: taskPrompt(task, inputs, context, help, passages),
      began_at: new Date().toISOString(),
    });
    this.begun.add(this.id(task, attempt, ''));
  }

  /**
   * What earlier steps of the task's feature wrote that bears on it (BM25 on
   * its title and description), the inputs it is handed whole left out,
   * within about PASSAGE_BUDGET characters.
   */
  private async relevantPassages(task: TaskContext): Promise<ContextHit[]> {
    if (!task.feature_id) return [];
    const given = new Set(Object.values(task.inputs).map((id) => `artifact:${id}`));
    const hits = await this.deps.registry.searchContext({
      q: `${task.title} ${task.description}`.slice(0, 2_000),
      feature_id: task.feature_id,
      k: 8,
    });
    let budget = PASSAGE_BUDGET;
    return hits.filter((h) => !given.has(h.source) && (budget -= h.text.length) >= 0);
  }

  /** Makes the LLM call of a step, with the conversation so far and the tools, and stores its answer. */
  private async ask(task: TaskContext, attempt: number, step: number, progress: Progress): Promise<Answer> {
    const asked = { provider: this.spec.llm_provider, model: this.spec.llm_model };
    const [session, messages] = await Promise.all([
      this.session(task, attempt),
      this.conversation(task, attempt, step),
    ]);
    await progress(this.percent(step), `step ${step}: asking ${this.deps.router.answering(asked)}`);
    const tools = session.toolbox?.names.length ? session.toolbox.definitions() : undefined;
    // One span per LLM call, in the GenAI semantic conventions: who answered, with how many tokens.
    const response = await inSpan(
      `chat ${this.spec.llm_model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': this.spec.llm_provider,
          'gen_ai.request.model': this.spec.llm_model,
          'vapora.task_id': task.task_id,
          'vapora.step': step,
        },
      },
      async (span) => {
        const answered = await this.deps.router.complete(this.spec.llm_provider, {
          model: this.spec.llm_model,
          system: systemPrompt(task.role),
          messages,
          tools,
          maxTokens: 4096,
        });
        span.setAttributes({
          'gen_ai.response.provider': answered.provider,
          'gen_ai.response.model': answered.model,
          'gen_ai.usage.input_tokens': answered.inputTokens,
          'gen_ai.usage.output_tokens': answered.outputTokens,
          'vapora.cost_usd': answered.costUsd,
        });
        return answered;
      },
    ).catch((error: unknown) => {
      // The router has tried every provider: the task's own attempts (reassignment, escalation) take it from here.
      if (error instanceof LLMError)
        throw ApplicationFailure.create({ type: 'LLMFailed', message: error.message, nonRetryable: true });
      throw error;
    });
    return this.keep<Answer>(task, attempt, `m${step}`, {
      messages: response.messages,
      text: response.text,
      tool_calls: response.toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input })),
      usage: {
        provider: response.provider,
        model: response.model,
        input_tokens: response.inputTokens,
        output_tokens: response.outputTokens,
        cost_usd: response.costUsd,
        fallbacks: response.fallbacks,
        answered_by: describeModel(asked, { provider: response.provider, model: response.model }),
      },
    });
  }

  /** The stored answers of steps 1 to `steps`. */
  private async answers(task: TaskContext, attempt: number, steps: number): Promise<Answer[]> {
    const all = await Promise.all(
      Array.from({ length: steps }, (_, i) => this.load<Answer>(task, attempt, `m${i + 1}`)),
    );
    return all.filter((a): a is Answer => a !== undefined);
  }

  /** Commits what the tools changed, stores the result as the role's artifact and shares its summary. */
  private async finish(
    task: TaskContext,
    attempt: number,
    steps: number,
    stopped: Stopped | undefined,
    progress: Progress,
  ): Promise<AgentTaskOutput> {
    const [opening, answers] = await Promise.all([
      this.load<Opening>(task, attempt, 'c0'),
      this.answers(task, attempt, steps),
    ]);
    const began = opening?.began_at ?? (await this.deps.registry.artifact(this.id(task, attempt, 'c0')))?.created_at;
    const text = answers.at(-1)?.text || `Stopped after ${steps} LLM calls (${stopped ?? 'no answer'}).`;
    await progress(95, stopped ? `stopped (${stopped}): storing the result` : 'storing the result', 'if-lasting');
    const session = await this.session(task, attempt);
    // A push can fail: the answers it follows are stored first, so its retry does not pay for them again.
    if (session.copy) await this.flush(task, attempt);
    const change = await session.copy?.commitAndPush(
      `${task.title}\n\nStep: ${task.role} task ${task.task_id}, attempt ${attempt}\nAgent: ${this.spec.agent_id}` +
        (task.feature_id ? `\nFeature: ${task.feature_id}` : ''),
    );
    const kind = ARTIFACT_KIND[task.role];
    const resultId = `${task.task_id}-a${attempt}`;
    const summary = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    const scope = task.feature_id ?? task.task_id;
    const shared = {
      key: `${scope}/${task.role}`,
      context_type: kind,
      from_agent: this.spec.agent_id,
      to_roles: [],
      data: { summary, artifact: resultId, ...(change?.changed && { commit: change.commit, files: change.files }) },
      ttl_minutes: CONTEXT_TTL_MINUTES,
    };
    // Stored before the next step can ask for it, with what the call has not stored yet; broadcast for every other
    // reader (stored once, see context-intake).
    const stored = await this.flush(task, attempt, {
      artifact: {
        id: resultId,
        kind,
        title: task.title,
        // Whoever reviews the step reads its diff with it.
        content: change?.changed ? `${text}\n\n--- diff of ${change.commit} ---\n${change.diff}` : text,
        feature_id: task.feature_id,
        task_id: task.task_id,
      },
      knowledge: shared,
    });
    const artifact = stored.artifacts.find((a) => a.id === resultId)!;
    await this.deps.bus.publish({ type: 'ShareContext', ...shared }, `${task.task_id}/shared/${attempt}`);
    await this.close(task, attempt, session);

    const plan = task.role === 'orchestrator' ? readPlan(text, task.title) : undefined;
    // A fallback plan is news to whoever watches; a plain end is TaskCompleted's.
    if (plan?.fallback) await progress(100, 'done (default plan: the answer was not a valid plan)');
    return {
      result: {
        success: true,
        summary,
        verdict: readVerdict(text),
        artifacts: [artifact],
        plan: plan?.plan,
        ...(change?.changed && { commit: change.commit, files: change.files }),
      },
      usage: total(
        answers.map((a) => a.usage),
        { provider: this.spec.llm_provider, model: this.spec.llm_model },
      ),
      duration_ms: began ? Date.now() - Date.parse(began) : 0,
    };
  }

  private percent(step: number): number {
    return Math.min(90, 10 + Math.round((80 * (step - 1)) / (this.spec.tools?.max_steps ?? 1)));
  }

  /** The conversation before the `step`th LLM call: the opening, then each answer with its tool results. */
  private async conversation(task: TaskContext, attempt: number, step: number): Promise<ModelMessage[]> {
    const opening = await this.load<Opening>(task, attempt, 'c0');
    if (!opening) throw new Error(`task ${task.task_id} attempt ${attempt} was not begun`);
    const messages: ModelMessage[] = [{ role: 'user', content: opening.prompt }];
    for (let before = 1; before < step; before++) {
      const answer = await this.load<Answer>(task, attempt, `m${before}`);
      if (!answer) throw new Error(`task ${task.task_id} attempt ${attempt} has no answer to step ${before}`);
      messages.push(...answer.messages);
      const results = await Promise.all(
        answer.tool_calls.map((_c, i) => this.load<ToolResult>(task, attempt, `t${before}-${i}`)),
      );
      const parts: ToolResultPart[] = results.flatMap((r) =>
        r
          ? [
              {
                type: 'tool-result',
                toolCallId: r.tool_call_id,
                toolName: r.tool_name,
                output: r.is_error ? { type: 'error-text', value: r.text } : { type: 'text', value: r.text },
              },
            ]
          : [],
      );
      if (parts.length) messages.push({ role: 'tool', content: parts });
    }
    return messages;
  }

  private session(task: TaskContext, attempt: number): Promise<Session> {
    const key = `${task.task_id}/${attempt}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = (async () => {
        const copy = task.workspace
          ? await WorkingCopy.open(
              localRemote(task.workspace, this.deps.workspacesDir),
              join(this.deps.workDir, `${task.task_id}-a${attempt}`),
              this.deps.token,
            )
          : undefined;
        const toolbox = this.spec.tools
          ? await McpToolbox.open(this.spec.tools, copy?.dir, this.deps.registry.mcp)
          : undefined;
        return { copy, toolbox };
      })();
      // A failed start is not kept: the activity's next attempt tries again.
      session.catch(() => this.sessions.delete(key));
      this.sessions.set(key, session);
    }
    return session;
  }

  private async close(task: TaskContext, attempt: number, session: Session): Promise<void> {
    this.sessions.delete(`${task.task_id}/${attempt}`);
    this.forget(task, attempt);
    await session.toolbox?.close();
    session.copy?.remove();
  }

  private id(task: TaskContext, attempt: number, part: string): string {
    return `${task.task_id}-a${attempt}-${part}`;
  }

  /** Drops what this process holds of an attempt (it ended, or a call failed: what it kept unstored is lost). */
  private forget(task: TaskContext, attempt: number): void {
    const prefix = this.id(task, attempt, '');
    this.begun.delete(prefix);
    this.unsent.delete(prefix);
    for (const id of this.parts.keys()) if (id.startsWith(prefix)) this.parts.delete(id);
  }

  private async load<T>(task: TaskContext, attempt: number, part: string): Promise<T | undefined> {
    const id = this.id(task, attempt, part);
    if (this.parts.has(id) || this.begun.has(this.id(task, attempt, ''))) return this.parts.get(id) as T | undefined;
    const artifact = await this.deps.registry.artifact(id);
    if (!artifact) return undefined;
    const value = JSON.parse(artifact.content) as T;
    this.parts.set(id, value);
    return value;
  }

  /** Holds a part of the attempt, to be stored by the next `flush`. */
  private keep<T>(task: TaskContext, attempt: number, part: string, value: T): T {
    const id = this.id(task, attempt, part);
    const prefix = this.id(task, attempt, '');
    const unsent = this.unsent.get(prefix) ?? [];
    unsent.push({
      id,
      kind: 'conversation',
      title: `${task.title} (${part})`,
      content: JSON.stringify(value),
      feature_id: task.feature_id,
      task_id: task.task_id,
    });
    this.unsent.set(prefix, unsent);
    this.parts.set(id, value);
    return value;
  }

  /** Stores the parts kept since the last flush, and the task's result and shared context when given, in one request. */
  private async flush(
    task: TaskContext,
    attempt: number,
    result?: { artifact: NewArtifact; knowledge: NewKnowledge },
  ): Promise<WritesDone> {
    const prefix = this.id(task, attempt, '');
    const artifacts = [...(this.unsent.get(prefix) ?? []), ...(result ? [result.artifact] : [])];
    if (!artifacts.length) return { artifacts: [], knowledge: [] };
    const done = await this.deps.registry.write({ artifacts, knowledge: result ? [result.knowledge] : [] });
    this.unsent.delete(prefix);
    return done;
  }

  private async store<T>(task: TaskContext, attempt: number, part: string, value: T): Promise<T> {
    this.keep(task, attempt, part, value);
    await this.flush(task, attempt);
    return value;
  }

  /** A task outside this agent's capabilities asks the other roles for help; the first offer joins the prompt. */
  private async askForHelp(task: TaskContext): Promise<string[]> {
    if (!task.capability || this.spec.capabilities.some((c) => c.id === task.capability)) return [];
    const deadline = new Date(Date.now() + 2_000).toISOString();
    const to_roles = AGENT_ROLES.filter((r) => r !== this.spec.role);
    const offer = await askForHelp(
      this.deps.bus,
      {
        type: 'RequestHelp',
        from_agent: this.spec.agent_id,
        to_roles,
        context: `${task.capability}: ${task.title}`,
        deadline,
      },
      2_000,
    ).catch(() => undefined);
    return offer ? [`${offer.from_agent} (${offer.capability.name})`] : [];
  }
}

/** A task's LLM calls as one usage record: tokens and cost summed, who answered last. */
function total(calls: LLMUsage[], manifest: { provider: string; model: string }): LLMUsage {
  const last = calls.at(-1);
  return {
    provider: last?.provider ?? manifest.provider,
    model: last?.model ?? manifest.model,
    input_tokens: calls.reduce((n, c) => n + c.input_tokens, 0),
    output_tokens: calls.reduce((n, c) => n + c.output_tokens, 0),
    cost_usd: calls.reduce((n, c) => n + c.cost_usd, 0),
    fallbacks: calls.flatMap((c) => c.fallbacks),
    answered_by: last?.answered_by ?? `${manifest.provider} ${manifest.model}`,
  };
}
