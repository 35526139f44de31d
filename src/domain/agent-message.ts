import { z } from 'zod';
import { AgentRole } from './agent-role';
import { AgentStatus } from './agent-status';
import { Capability } from './capability';
import { TtlMinutes } from './knowledge';
import { StorableJson } from './storable';
import { TaskContext, TaskResult } from './task';
import { Identifier, Timestamp } from './timestamp';

const variant = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), ...shape });

/** The spec's AgentMessage enum (11 variants) plus AgentStatusChanged: every message on the bus is one of these 12. */
export const AgentMessage = z.discriminatedUnion('type', [
  variant('TaskAssigned', {
    task_id: z.string().min(1),
    agent_id: z.string().min(1),
    context: TaskContext,
    deadline: Timestamp,
  }),
  variant('TaskStarted', { task_id: z.string().min(1), agent_id: Identifier, timestamp: Timestamp }),
  variant('TaskProgress', {
    task_id: z.string().min(1),
    agent_id: Identifier,
    progress_percent: z.number().int().min(0).max(100),
    current_step: z.string(),
  }),
  variant('TaskCompleted', {
    task_id: z.string().min(1),
    agent_id: z.string().min(1),
    result: TaskResult,
    tokens_used: z.number().int().min(0),
    duration_ms: z.number().int().min(0),
  }),
  variant('TaskFailed', {
    task_id: z.string().min(1),
    agent_id: z.string().min(1),
    error: z.string(),
    retry_count: z.number().int().min(0),
  }),
  variant('RequestHelp', {
    from_agent: z.string().min(1),
    to_roles: z.array(AgentRole).min(1),
    context: z.string(),
    deadline: Timestamp,
  }),
  variant('HelpOffered', { from_agent: Identifier, to_agent: z.string().min(1), capability: Capability }),
  variant('ShareContext', {
    /** Not in the spec: where it is stored, "<scope>/<topic>" (a feature's id as scope); else "<from_agent>/<context_type>". */
    key: z.string().min(1).max(256).optional(),
    from_agent: Identifier,
    to_roles: z.array(AgentRole),
    // With from_agent (at most 128), the default key stays within a knowledge key's 256.
    context_type: z.string().min(1).max(127),
    // What the registry can store (see context-intake.ts): a message it refused would come back forever.
    data: StorableJson,
    ttl_minutes: TtlMinutes,
  }),
  variant('RequestDecision', {
    from_agent: z.string().min(1),
    decision_type: z.string().min(1),
    context: z.string(),
    options: z.array(z.string()).min(1),
  }),
  variant('DecisionMade', {
    decision_id: z.string().min(1),
    decision: z.string().min(1),
    reasoning: z.string(),
    made_by: z.string().min(1),
  }),
  variant('Heartbeat', { agent_id: Identifier, status: AgentStatus, load: z.number().min(0).max(1) }),
  // Not in the spec's enum: the lifecycle's status changes, so watchers need not poll the registry.
  variant('AgentStatusChanged', {
    agent_id: z.string().min(1),
    from: AgentStatus,
    to: AgentStatus,
    reason: z.string(),
    timestamp: Timestamp,
  }),
]);
export type AgentMessage = z.infer<typeof AgentMessage>;
export type AgentMessageType = AgentMessage['type'];
export type MessageOf<T extends AgentMessageType> = Extract<AgentMessage, { type: T }>;

/** The spec's subjects; task events (and decisions, so they can be replayed) go under the `vapora.tasks.>` stream. */
export const SUBJECTS = {
  TaskAssigned: 'vapora.tasks.assigned',
  TaskStarted: 'vapora.tasks.started',
  TaskProgress: 'vapora.tasks.progress',
  TaskCompleted: 'vapora.tasks.completed',
  TaskFailed: 'vapora.tasks.failed',
  RequestHelp: 'vapora.agent.help',
  HelpOffered: 'vapora.agent.help',
  ShareContext: 'vapora.agent.context',
  RequestDecision: 'vapora.agent.decision',
  DecisionMade: 'vapora.tasks.decisions',
  Heartbeat: 'vapora.agent.heartbeat',
  AgentStatusChanged: 'vapora.agent.status',
} as const satisfies Record<AgentMessageType, string>;

/**
 * Messages an agent sends in its own name, and the field that names it: they
 * go to `<subject>.<that agent>`, so NATS lets each agent publish only as
 * itself (see src/bus/nats-credentials.ts); `<subject>.>` matches them all.
 */
const SENDER = {
  Heartbeat: 'agent_id',
  TaskStarted: 'agent_id',
  TaskProgress: 'agent_id',
  HelpOffered: 'from_agent',
  ShareContext: 'from_agent',
} as const satisfies Partial<Record<AgentMessageType, string>>;

/** The types an agent sends in its own name. */
export const SELF_SENT = Object.keys(SENDER) as (keyof typeof SENDER)[];

/** The agent a message is sent in the name of, for the types an agent sends as itself. */
export function senderOf(message: AgentMessage): string | undefined {
  const field = SENDER[message.type as keyof typeof SENDER];
  return field && (message as Record<string, string>)[field];
}

/** Where a message is published. */
export function subjectOf(message: AgentMessage): string {
  const sender = senderOf(message);
  return sender ? `${SUBJECTS[message.type]}.${sender}` : SUBJECTS[message.type];
}

/** What matches every message of `type`, whoever sent it. */
export const subjectsOf = (type: AgentMessageType) => (type in SENDER ? `${SUBJECTS[type]}.>` : SUBJECTS[type]);

export const TASK_STREAM = { name: 'vapora_tasks', subjects: ['vapora.tasks.>'] } as const;

/** Shared context waits here until the registry has stored it (a work queue: gone once acknowledged). */
export const CONTEXT_STREAM = { name: 'vapora_context', subjects: [subjectsOf('ShareContext')] } as const;
