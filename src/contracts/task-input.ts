import { z } from 'zod';
import type { Decision, TaskResult, TaskStatus } from '../domain';
// Straight from their files, not the index: workflows import this module (see workflows/validate-input.ts).
import { AgentRole } from '../domain/agent-role';
import { namedRecord } from '../domain/named-record';
import { TaskPriority } from '../domain/task';
import { Identifier } from '../domain/timestamp';
import { ApprovalTimeoutSecs, type ApprovalRecord, type PendingApproval } from './approval';
import type { LLMUsage } from './agent-task';
import { acceptingOldName } from './old-spelling';

const TaskInputFields = z.object({
  /** The task's id (its workflow id is `task-<id>`); absent in runs started before it was passed, where the workflow id says it. */
  task_id: Identifier.optional(),
  role: AgentRole,
  capability: z.string().min(1).optional(),
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).default(''),
  /** Earlier steps' artifacts by name, as references: never their content. */
  inputs: namedRecord(z.string().min(1), Identifier).default({}),
  priority: TaskPriority.default('normal'),
  feature_id: Identifier.optional(),
  /** The feature's workspace repository: the agent acts on a clone of it through its tools. */
  workspace: z.string().min(1).optional(),
  /** What the task's LLM calls may cost at most (the feature's budget left): its tool loop stops there. */
  budget_usd: z.number().min(0).optional(),
  /** Seconds from the start for the work to be done; the server holds each call to it (its timeouts are durable). */
  deadline_secs: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(1_800),
  /** A person approves the result (update or signal `approve`/`reject`) before the task completes. */
  require_approval: z.boolean().default(false),
  max_attempts: z.number().int().min(1).max(10).default(3),
  /** How long to wait for an agent of the role with spare capacity before escalating. */
  assignment_timeout_secs: z.number().int().min(1).max(86_400).default(120),
  /** How long an agent may take to pick the task up before it counts as gone. */
  pickup_timeout_secs: z.number().int().min(1).max(3_600).default(30),
  approval_timeout_secs: ApprovalTimeoutSecs,
  /** The agent the task dispatcher already chose (and announced) for the first attempt. */
  assigned_agent: Identifier.optional(),
});
// Spelled `requiresApproval` before 0.3.
const OLD_NAME = { old: 'requiresApproval', current: 'require_approval' };

/** taskWorkflow's input, validated at its boundary. */
export const TaskInput = acceptingOldName(TaskInputFields, OLD_NAME);
export type TaskInput = z.input<typeof TaskInputFields>;
export type ParsedTaskInput = z.infer<typeof TaskInputFields>;

const TaskSubmissionFields = TaskInputFields.omit({ assigned_agent: true }).extend({ task_id: Identifier });
/** A task handed to the dispatcher (see workflows/task-dispatcher.ts): its id is chosen by the submitter. */
export const TaskSubmission = acceptingOldName(TaskSubmissionFields, OLD_NAME);
export type TaskSubmission = z.input<typeof TaskSubmissionFields>;

export interface TaskSubmitted {
  task_id: string;
  workflow_id: string;
  /** Null when no agent could take it at once: the task workflow waits for one. */
  agent_id: string | null;
  /** The task workflow's run, when this submission started it: followed by it, the server looks nothing up. */
  run_id?: string;
}

export interface TaskAttempt {
  attempt: number;
  agent_id: string;
  outcome: 'completed' | 'failed' | 'deadline';
  error?: string;
}

/** What taskWorkflow returns, and what its `status` query shows while it runs. */
export interface TaskOutcome {
  task_id: string;
  role: AgentRole;
  title: string;
  status: TaskStatus;
  agent_id?: string;
  result?: TaskResult;
  attempts: TaskAttempt[];
  decisions: Pick<Decision, 'id' | 'decision_type' | 'decision' | 'made_by'>[];
  tokens: number;
  cost_usd: number;
  usage: LLMUsage[];
  error?: string;
  /** Set by the `status` query: what a person is asked now, and every approve/reject received. */
  pending_approval?: PendingApproval | null;
  approvals?: ApprovalRecord[];
}

/** What the control plane records of a task at each step (see recordTask). */
export interface TaskUpdate {
  task_id: string;
  feature_id?: string;
  role: AgentRole;
  title: string;
  priority: ParsedTaskInput['priority'];
  deadline: string;
  created_at: string;
  status: TaskStatus;
  attempt: number;
  agent_id?: string;
  result?: TaskResult;
  usage?: LLMUsage;
  duration_ms?: number;
  error?: string;
}
