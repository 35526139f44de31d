import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AgentRole, Decision } from '../src/domain';
import { failureMessage } from '../src/temporal/failure-message';
import { VaporaCost, VaporaFeatureId, VaporaRole, VaporaStatus } from '../src/temporal/search-attributes';
import type { DecisionRequest } from '../src/control-plane/decision-service';
import type {
  FeatureInput,
  FeaturePhase,
  FeatureStatus,
  FeatureStep,
  ParsedFeatureInput,
} from '../src/contracts/feature-input';
import type { TaskInput, TaskOutcome } from '../src/contracts/task-input';
import type { Activities } from '../activities';
import { featureApprovalRequired } from '../src/contracts/approval-required';
import { ApprovalGate } from './approval-gate';
import { featureStatusQuery } from '../src/contracts/messages';
import { escalateToDecisionMaker } from './escalation';
import { taskWorkflow } from './task';
import { validateInput } from './validate-input';
import { BUSINESS_IDS_IN_INPUTS, featureIdOf, featureWorkflowId, taskWorkflowId } from '../src/contracts/workflow-ids';
import { applies } from './patches';
import { PATCH_LEVEL_MEMO } from '../src/contracts/patch-level';

const { createWorkspace, workspaceHead } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '10s' },
});

/** Stops the line: the feature ends `aborted` (by decision or person) or `failed` (a step failed for good). */
class Stop extends Error {
  constructor(
    readonly phase: 'aborted' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

type Inputs = Record<string, string>;
const ref = (outcome: TaskOutcome) => outcome.result?.artifacts[0]?.id;
const refs = (named: [string, TaskOutcome | undefined][]): Inputs =>
  Object.fromEntries(named.flatMap(([name, o]) => (o && ref(o) ? [[name, ref(o)!]] : [])));

/**
 * A feature (`feature-<id>`) through the roles: Orchestrator plan → Architect
 * ADR → Developers in parallel → Code reviewers (reject loops back, bounded,
 * then the DecisionMaker) → Tester → Security (a block escalates) → human
 * approval (reject sends it back to development) → DevOps → Monitor, with
 * Documenter and Marketer on their own and a ProjectManager report. Each step
 * is a child taskWorkflow; only artifact references pass through history.
 */
export async function featureWorkflow(raw: FeatureInput): Promise<FeatureStatus> {
  const input = await validateInput('featureWorkflow', raw);
  const { options } = input;
  const featureId = input.feature_id ?? featureIdOf(workflowInfo().workflowId);
  if (featureWorkflowId(featureId) !== workflowInfo().workflowId) {
    throw ApplicationFailure.nonRetryable(
      `feature_id: "${featureId}" does not match the workflow id ${workflowInfo().workflowId}`,
      'InvalidInput',
    );
  }
  const state: FeatureStatus = {
    feature_id: featureId,
    title: input.title,
    phase: 'planning',
    round: 0,
    steps: [],
    pending_approval: null,
    approvals: [],
    decisions: [],
    costs: { total_usd: 0, tokens: 0, budget_usd: options.budget_usd },
  };
  const gate = new ApprovalGate();
  state.approvals = gate.received;
  setHandler(featureStatusQuery, () => ({ ...state, pending_approval: gate.answerable }));
  upsertMemo({ title: input.title });
  upsertSearchAttributes([
    { key: VaporaFeatureId, value: featureId },
    { key: VaporaStatus, value: 'planning' },
  ]);
  const pipeline = new Pipeline(featureId, input, state, gate);
  try {
    // Its own git workspace, which the agents change through their tools (runs begun before had none).
    if (applies('feature-workspace')) {
      const { repo, base, url } = await createWorkspace(featureId);
      state.workspace = { repo, base, commit: base, url };
    }
    await pipeline.run();
    if (state.workspace) state.workspace.commit = await workspaceHead(state.workspace.repo);
    pipeline.phase('completed', 'completed');
    return state;
  } catch (error) {
    const stop = error instanceof Stop ? error : new Stop('failed', failureMessage(error));
    state.error = stop.message;
    pipeline.phase(stop.phase, stop.message);
    throw ApplicationFailure.nonRetryable(
      `feature ${featureId} ${stop.phase}: ${stop.message}`,
      stop.phase === 'aborted' ? 'FeatureAborted' : 'FeatureFailed',
      state,
    );
  }
}

class Pipeline {
  private readonly runs = new Map<string, number>();
  private budgetApproved = false;

  constructor(
    private readonly featureId: string,
    private readonly input: ParsedFeatureInput,
    private readonly state: FeatureStatus,
    private readonly gate: ApprovalGate,
  ) {}

  async run(): Promise<void> {
    const { title, options } = this.input;
    this.phase('planning', 'the Orchestrator plans the subtasks');
    const plan = await this.step(
      'plan',
      'orchestrator',
      title,
      {},
      `Plan the subtasks of this feature for the roles.\n${this.input.description}`,
    );
    const subtasks = plan.result?.plan?.subtasks ?? [];
    const titleOf = (role: AgentRole, verb: string) =>
      subtasks.find((s) => s.role === role)?.title ?? `${verb}: ${title}`;
    const planned = subtasks.filter((s) => s.role === 'developer').map((s) => s.title);
    const devTitles = Array.from(
      { length: options.developers },
      (_, i) => planned[i] ?? `Implement part ${i + 1} of ${options.developers}: ${title}`,
    );

    this.phase('designing', 'the Architect writes the ADR');
    const adr = await this.step('adr', 'architect', titleOf('architect', 'Design'), refs([['plan', plan]]));

    let feedback = '';
    for (;;) {
      const code = await this.developAndReview(devTitles, adr, feedback);
      // The change as the next steps read it: every developer's code and the ADR.
      const change = refs([...code.map((c, i): [string, TaskOutcome] => [`code-${i + 1}`, c]), ['adr', adr]]);

      this.phase('testing', 'the Tester tests the change');
      const test = await this.step('test', 'tester', titleOf('tester', 'Test'), change);
      if (test.result?.verdict === 'reject') {
        feedback = `The tests failed: ${test.result.summary}`;
        await this.rework(feedback);
        continue;
      }

      this.phase('security', 'Security audits the change');
      const audit = await this.step('security', 'security', titleOf('security', 'Security review'), change);
      if (audit.result?.verdict === 'block') {
        const decision = await this.decide('security_block', `a blocking security finding: ${audit.result.summary}`, [
          'ask_human',
          'abort',
        ]);
        if (decision === 'abort') throw new Stop('aborted', 'stopped on a blocking security finding');
      }

      const rejection = featureApprovalRequired(this.input) ? await this.humanApproval() : undefined;
      if (rejection === undefined) {
        await this.release(titleOf, change, adr);
        return;
      }
      feedback = rejection;
      await this.rework(rejection);
    }
  }

  /** Developers in parallel, each reviewed; a rejected change goes back to its developer until the rounds run out. */
  private async developAndReview(titles: string[], adr: TaskOutcome, feedback: string): Promise<TaskOutcome[]> {
    const { max_review_rounds } = this.input.options;
    const description = feedback && `Rework requested: ${feedback}`;
    this.phase('developing', `${titles.length} developers implement the ADR`);
    const code = await Promise.all(
      titles.map((t, i) => this.step(`dev-${i + 1}`, 'developer', t, refs([['adr', adr]]), description)),
    );
    let pending = titles.map((_, i) => i);
    for (let round = 1; pending.length > 0; round++) {
      this.phase('reviewing', `review round ${round} of ${max_review_rounds}`);
      const reviews = await Promise.all(
        pending.map((i) =>
          this.step(
            `review-${i + 1}`,
            'code-reviewer',
            `Review: ${titles[i]}`,
            refs([
              ['code', code[i]],
              ['adr', adr],
            ]),
          ),
        ),
      );
      const rejected = pending.filter((_, k) => reviews[k]!.result?.verdict === 'reject');
      if (rejected.length === 0) break;
      if (round >= max_review_rounds) {
        const decision = await this.decide(
          'review_rounds_exhausted',
          `${rejected.length} change(s) still rejected after ${round} review rounds`,
          ['accept', 'abort', 'ask_human'],
        );
        if (decision === 'abort')
          throw new Stop('aborted', `review rounds exhausted and the DecisionMaker chose to abort`);
        break;
      }
      this.phase('developing', `${rejected.length} change(s) back to development after review`);
      await Promise.all(
        rejected.map(async (i) => {
          const review = reviews[pending.indexOf(i)]!;
          code[i] = await this.step(
            `dev-${i + 1}`,
            'developer',
            titles[i]!,
            refs([
              ['adr', adr],
              ['review', review],
            ]),
            `Address the review: ${review.result?.summary ?? ''}`,
          );
        }),
      );
      pending = rejected;
    }
    return code;
  }

  /** Waits for a person; undefined means approved, a string is the rejection to rework. */
  private async humanApproval(): Promise<string | undefined> {
    const { approval_timeout_secs, max_rework_rounds } = this.input.options;
    this.phase(
      'awaiting-approval',
      `waiting for a person: signal approve or reject (timeout ${approval_timeout_secs}s)`,
    );
    const verdict = await this.gate.wait(`release of ${this.input.title}`, approval_timeout_secs * 1000);
    if (verdict.kind === 'approve') return undefined;
    if (verdict.kind === 'timeout') {
      const decision = await this.decide('approval_timeout', `nobody approved within ${approval_timeout_secs}s`, [
        'abort',
        'approve',
      ]);
      if (decision === 'approve') return undefined;
      throw new Stop('aborted', 'nobody approved in time and the DecisionMaker chose to abort');
    }
    if (this.state.round >= max_rework_rounds) {
      const decision = await this.decide(
        'review_rounds_exhausted',
        `rejected by ${verdict.by} after ${this.state.round} rework rounds: ${verdict.text}`,
        ['abort', 'accept'],
      );
      if (decision === 'accept') return undefined;
      throw new Stop('aborted', `rejected by ${verdict.by}: ${verdict.text}`);
    }
    return `${verdict.text} (${verdict.by})`;
  }

  private async rework(reason: string): Promise<void> {
    this.state.round++;
    this.phase('developing', `rework round ${this.state.round}: ${reason}`);
  }

  /** Approved: Documenter and Marketer start on their own, DevOps deploys, Monitor watches, the ProjectManager reports. */
  private async release(
    titleOf: (role: AgentRole, verb: string) => string,
    change: Inputs,
    adr: TaskOutcome,
  ): Promise<void> {
    const { title } = this.input;
    await Promise.all([
      this.detached('docs', 'documenter', `Document: ${title}`, change),
      this.detached('announcement', 'marketer', `Announce: ${title}`, refs([['adr', adr]])),
    ]);
    this.phase('deploying', 'DevOps deploys the change');
    const deploy = await this.step('deploy', 'devops', titleOf('devops', 'Deploy'), change);
    this.phase('monitoring', 'the Monitor watches the release');
    await this.step('monitor', 'monitor', titleOf('monitor', 'Watch'), refs([['deployment', deploy]]));
    this.phase('reporting', 'the ProjectManager writes the status report');
    const progress = this.state.steps.map((s) => `${s.name} (${s.role}): ${s.status}`).join('; ');
    await this.step(
      'report',
      'project-manager',
      `Status report: ${title}`,
      refs([
        ['adr', adr],
        ['deployment', deploy],
      ]),
      `Steps so far:\nProgress: ${progress}`,
    );
  }

  phase(phase: FeaturePhase, details: string): void {
    this.state.phase = phase;
    upsertSearchAttributes([{ key: VaporaStatus, value: phase }]);
    setCurrentDetails(
      `**${phase}** — ${details}\n\nround ${this.state.round}, cost $${this.state.costs.total_usd.toFixed(4)}`,
    );
  }

  /** One child taskWorkflow; its cost counts against the budget, whose breach escalates. */
  private async step(
    base: string,
    role: AgentRole,
    title: string,
    inputs: Inputs,
    description = '',
  ): Promise<TaskOutcome> {
    const { name, options } = this.child(base, role, title, inputs, description);
    const step: FeatureStep = { name, role, task_id: `${this.featureId}-${name}`, status: 'running', cost_usd: 0 };
    this.state.steps.push(step);
    let outcome: TaskOutcome;
    try {
      outcome = await executeChild(taskWorkflow, options);
    } catch (error) {
      step.status = 'failed';
      const details =
        error instanceof ChildWorkflowFailure && error.cause instanceof ApplicationFailure
          ? (error.cause.details?.[0] as TaskOutcome | undefined)
          : undefined;
      if (details) this.count(step, details);
      throw new Stop(
        details?.decisions.some((d) => d.decision === 'abort') ? 'aborted' : 'failed',
        `step ${name} (${role}): ${failureMessage(error)}`,
      );
    }
    Object.assign(step, { status: outcome.status, agent_id: outcome.agent_id, verdict: outcome.result?.verdict });
    this.count(step, outcome);
    await this.checkBudget();
    return outcome;
  }

  /** A child that runs on its own: the feature neither waits for it nor fails with it. */
  private async detached(base: string, role: AgentRole, title: string, inputs: Inputs): Promise<void> {
    const { name, options } = this.child(base, role, title, inputs, '');
    await startChild(taskWorkflow, { ...options, parentClosePolicy: ParentClosePolicy.ABANDON });
    this.state.steps.push({
      name,
      role,
      task_id: `${this.featureId}-${name}`,
      status: 'running',
      cost_usd: 0,
      detached: true,
    });
  }

  private child(base: string, role: AgentRole, title: string, inputs: Inputs, description: string) {
    const level = workflowInfo().memo?.[PATCH_LEVEL_MEMO] as number | undefined;
    const n = (this.runs.get(base) ?? 0) + 1;
    this.runs.set(base, n);
    const name = n === 1 ? base : `${base}-${n}`;
    const args: TaskInput = {
      // Runs begun before inputs carried their ids start their steps as they did.
      ...(applies(BUSINESS_IDS_IN_INPUTS) && { task_id: `${this.featureId}-${name}` }),
      role,
      title,
      description,
      inputs,
      feature_id: this.featureId,
      deadline_secs: this.input.options.step_deadline_secs,
      ...(this.state.workspace && {
        // Over HTTP where the control plane serves it, so agents anywhere (pods too) reach it alike.
        workspace: this.state.workspace.url ?? this.state.workspace.repo,
        budget_usd: Math.max(0, this.state.costs.budget_usd - this.state.costs.total_usd),
      }),
    };
    return {
      name,
      options: {
        workflowId: taskWorkflowId(`${this.featureId}-${name}`),
        args: [args] as [TaskInput],
        staticSummary: `${role}: ${title}`.slice(0, 200),
        staticDetails: `Step ${name} of feature ${this.featureId} (${this.input.title})`,
        typedSearchAttributes: [
          { key: VaporaFeatureId, value: this.featureId },
          { key: VaporaRole, value: role },
          // A feature begun at a patch level passes it on, with its steps' first status: nothing for them to upsert.
          ...(level !== undefined ? [{ key: VaporaStatus, value: 'pending' }] : []),
        ],
        ...(level !== undefined && { memo: { [PATCH_LEVEL_MEMO]: level } }),
      },
    };
  }

  private count(step: FeatureStep, outcome: TaskOutcome): void {
    step.cost_usd = outcome.cost_usd;
    this.state.costs.total_usd += outcome.cost_usd;
    this.state.costs.tokens += outcome.tokens;
    for (const d of outcome.decisions) this.state.decisions.push({ ...d, reasoning: `on task ${outcome.task_id}` });
    upsertSearchAttributes([{ key: VaporaCost, value: this.state.costs.total_usd }]);
  }

  private async checkBudget(): Promise<void> {
    const { total_usd, budget_usd } = this.state.costs;
    if (this.budgetApproved || total_usd <= budget_usd) return;
    const decision = await this.decide('budget_exceeded', `spent $${total_usd.toFixed(4)} of a $${budget_usd} budget`, [
      'ask_human',
      'abort',
      'continue',
    ]);
    if (decision === 'abort') throw new Stop('aborted', `budget of $${budget_usd} exceeded ($${total_usd.toFixed(4)})`);
    this.budgetApproved = true;
  }

  private decide(type: DecisionRequest['decision_type'], context: string, options: string[]): Promise<string> {
    const request = {
      id: `${this.featureId}-d${this.state.decisions.length + 1}`,
      decision_type: type,
      context,
      options,
      from: featureWorkflowId(this.featureId),
      feature_id: this.featureId,
    };
    return escalateToDecisionMaker(request, this.gate, this.input.options.approval_timeout_secs * 1000, (d: Decision) =>
      this.state.decisions.push({
        id: d.id,
        decision_type: d.decision_type,
        decision: d.decision,
        made_by: d.made_by,
        reasoning: d.reasoning,
      }),
    );
  }
}
