import type { Client } from '@temporalio/client';
import type { Decision, TaskContext, TaskRecord } from '../src/domain';
import type { EventBus } from '../src/bus/event-bus';
import type { RegistryStore } from '../src/registry/registry-store';
import type { DecisionRequest, DecisionService } from '../src/control-plane/decision-service';
import type { FleetView } from '../src/control-plane/fleet-view';
import { DISPATCHED_MEMO } from '../src/contracts/dispatched';
import type { TaskInput, TaskUpdate } from '../src/contracts/task-input';
import { parseWorkflowInput } from '../src/contracts/workflow-inputs';
import { startTaskWorkflow } from '../src/temporal/start-task-workflow';
import { createFeatureWorkspace, type FeatureWorkspace } from '../src/control-plane/feature-workspace';
import { git } from '../src/host/git';
import type { Metrics } from '../src/observability/metrics';

export interface WorkDeps {
  /** Where feature workspaces live (the control plane's state directory). */
  stateDir: string;
  /** Where agents reach them as Git remotes (the registry API's `/git`), when it serves them. */
  gitUrl?: string;
  registry: RegistryStore;
  bus: EventBus;
  view: FleetView;
  decisions: DecisionService;
  metrics: Metrics;
  /** On the workers' own connection, so the task workflows it starts run their first workflow task here at once. */
  temporal: Client;
}

export interface Assignment {
  task: TaskContext;
  attempt: number;
  exclude: string[];
  deadline: string;
  /** When the task was submitted, for the first assignment's latency. */
  submitted_at?: string;
  /** Since when the task has waited for an agent: its place in its role's queue (see FleetView). */
  queued_since?: string;
}

/** What the dispatcher's activity did: the agent it chose (null for none free) and the run it started. */
export interface Dispatched {
  agent_id: string | null;
  run_id?: string;
}

/** Control-plane activities of the work: assignment (a local activity), task records and events, escalation. */
export function createWorkActivities(deps: WorkDeps) {
  const { stateDir, gitUrl, registry, bus, view, decisions, metrics, temporal } = deps;
  /** Chooses an agent from memory and announces it (once per attempt, however often asked). */
  const assign = async (input: Assignment): Promise<string | null> => {
    const { task_id, role, capability, priority } = input.task;
    const { attempt, exclude } = input;
    const queuedSince = input.queued_since ? Date.parse(input.queued_since) : undefined;
    const chosen = view.assign({ taskId: task_id, attempt, role, capability, priority, exclude, queuedSince });
    if (!chosen) return null;
    await bus.publish(
      { type: 'TaskAssigned', task_id, agent_id: chosen.agentId, context: input.task, deadline: input.deadline },
      `${task_id}/assigned/${attempt}`,
    );
    if (input.submitted_at) metrics.assignmentSeconds.observe((Date.now() - Date.parse(input.submitted_at)) / 1000);
    return chosen.agentId;
  };
  /**
   * A task attempt's end: the agent's reservation, TaskCompleted or TaskFailed, then the task's record with the
   * agent's counters (in one transaction, so a record that shows the end says all of it was done).
   */
  const recordEnding = async (u: TaskUpdate, agentId: string, record: TaskRecord): Promise<void> => {
    const succeeded = u.status === 'completed';
    const tokens = u.usage ? u.usage.input_tokens + u.usage.output_tokens : 0;
    countTask(metrics, u);
    view.release(agentId, succeeded, { taskId: u.task_id, attempt: u.attempt });
    if (succeeded && u.result) {
      await bus.publish(
        {
          type: 'TaskCompleted',
          task_id: u.task_id,
          agent_id: agentId,
          result: u.result,
          tokens_used: tokens,
          duration_ms: u.duration_ms ?? 0,
        },
        `${u.task_id}/completed`,
      );
    } else if (!succeeded) {
      await bus.publish(
        {
          type: 'TaskFailed',
          task_id: u.task_id,
          agent_id: agentId,
          error: u.error ?? 'failed',
          retry_count: u.attempt - 1,
        },
        `${u.task_id}/failed/${u.attempt}`,
      );
    }
    await registry.recordTaskEnd(record, {
      agent_id: agentId,
      succeeded,
      duration_ms: u.duration_ms,
      tokens,
      cost_usd: u.usage?.cost_usd ?? 0,
    });
  };
  return {
    /** The feature's git workspace, created once (asked again, it finds it). */
    async createWorkspace(featureId: string): Promise<FeatureWorkspace> {
      return createFeatureWorkspace(stateDir, featureId, gitUrl);
    },
    /** The last commit of a workspace's main. */
    async workspaceHead(repo: string): Promise<string> {
      return (await git(repo, ['rev-parse', 'main'])).trim();
    },

    /** Chooses an agent from memory and announces it; run as a local activity so assignment costs no extra round trip. */
    assignTask: assign,
    /** The same for a task that waits: with the time of the ask, by which the task times its wait (see workflows/task.ts). */
    async askForAgent(input: Assignment): Promise<{ agent_id: string | null; at: number }> {
      return { agent_id: await assign(input), at: Date.now() };
    },

    /**
     * The dispatcher's one step per task: assigns it, then starts its workflow
     * with the agent chosen and its search attributes set, asking for its
     * first workflow task to run in this process at once (eager start). The
     * dispatcher's history then holds the Update and this marker, not a
     * child's start and end. What it did is in the run's memo (see
     * src/contracts/dispatched.ts), so the task's first workflow task runs no
     * local activity: it schedules the agent's call at once.
     */
    async dispatchTask(input: { assignment: Assignment; taskQueue: string; args: TaskInput }): Promise<Dispatched> {
      const agentId = await assign(input.assignment);
      const args = parseWorkflowInput('taskWorkflow', { ...input.args, ...(agentId && { assigned_agent: agentId }) });
      const { task_id = input.assignment.task.task_id, role, feature_id, title, priority } = args;
      const runId = await startTaskWorkflow(
        temporal,
        { ...args, task_id },
        { taskQueue: input.taskQueue, memo: { [DISPATCHED_MEMO]: true }, eager: true },
      );
      // Once: a record already there (this activity's earlier attempt, or any later step of the task) stays.
      if (agentId)
        await registry.tasks.add(
          taskRecord({
            task_id,
            feature_id,
            role,
            title,
            priority,
            deadline: input.assignment.deadline,
            created_at: input.assignment.submitted_at ?? new Date().toISOString(),
            status: 'running',
            attempt: 1,
            agent_id: agentId,
          }),
        );
      return { agent_id: agentId, run_id: runId };
    },

    /** Workflow input parsed here, where zod is loaded once (see workflows/validate-input.ts). */
    async parseWorkflowInput(...args: Parameters<typeof parseWorkflowInput>) {
      return parseWorkflowInput(...args);
    },

    /**
     * Keeps the task record, the agent's counters and the task events in step with the workflow. An ending is
     * counted and published before it is stored, so a record that already shows it (this local activity run
     * again by a workflow task that was retried, minutes later under chaos) says all of it was done.
     */
    async recordTask(u: TaskUpdate): Promise<void> {
      const record = taskRecord(u);
      if (!u.agent_id || (u.status !== 'completed' && u.status !== 'failed')) {
        await registry.tasks.put(record);
        return;
      }
      const stored = await registry.tasks.get(u.task_id);
      if (stored?.status === record.status && stored.retry_count === record.retry_count) return;
      await recordEnding(u, u.agent_id, record);
    },

    /** RequestDecision to the DecisionMaker agent; the decision is stored and published once. */
    async escalate(request: DecisionRequest): Promise<Decision> {
      metrics.escalations.inc({ reason: request.decision_type });
      return decisions.decide(request);
    },
  };
}

/** The registry's record of a task at one step. */
const taskRecord = (u: TaskUpdate) => ({
  id: u.task_id,
  feature_id: u.feature_id,
  role: u.role,
  title: u.title,
  status: u.status,
  agent_id: u.agent_id,
  priority: u.priority,
  deadline: u.deadline,
  retry_count: u.attempt - 1,
  result: u.result,
  llm: u.usage?.answered_by,
  created_at: u.created_at,
  updated_at: new Date().toISOString(),
});

/** An ended task in the metrics: its outcome, its time on the agent, and its tokens and cost by who answered. */
function countTask(metrics: Metrics, u: TaskUpdate): void {
  const { role } = u;
  metrics.tasks.inc({ role, outcome: u.status });
  if (u.status === 'completed' && u.duration_ms !== undefined)
    metrics.taskDurationSeconds.observe({ role }, u.duration_ms / 1000);
  if (!u.usage) return;
  const { provider, model } = u.usage;
  metrics.llmTokens.inc({ provider, model, role, kind: 'input' }, u.usage.input_tokens);
  metrics.llmTokens.inc({ provider, model, role, kind: 'output' }, u.usage.output_tokens);
  metrics.llmCostUsd.inc({ provider, model, role }, u.usage.cost_usd);
}
