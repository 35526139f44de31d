import { z } from 'zod';
import {
  AgentInstance,
  AgentMetadata,
  AgentRole,
  Artifact,
  ArtifactRef,
  Identifier,
  Knowledge,
  PoolUpgrade,
  SemVer,
  TaskStatus,
  TtlMinutes,
} from '../domain';
import { storable } from '../domain/storable';

/**
 * What the control plane's registry API takes and answers: the server checks
 * every body and query against these, the client every reply.
 */

/** `vapora agent history`: the versions the marketplace has of a manifest, newest first, and its pool's upgrades, oldest first. */
export const ManifestHistory = z.object({
  manifest_id: Identifier,
  versions: z.array(SemVer),
  upgrades: z.array(PoolUpgrade),
});
export type ManifestHistory = z.infer<typeof ManifestHistory>;

/** `vapora catalog add`: a name of the user's choosing and where the catalog is (an http(s) URL or an absolute folder). */
export const NewCatalog = z.object({
  name: Identifier,
  source: z
    .string()
    .refine((s) => /^https?:\/\//.test(s) || s.startsWith('/'), 'must be an http(s) URL or an absolute folder'),
});
export type NewCatalog = z.infer<typeof NewCatalog>;

/** `vapora catalog trust`: an Ed25519 public key, base64 of its 32 raw bytes or PEM. */
export const TrustedKey = z.object({ public_key: z.string().min(1) });

/** An agent as `vapora agent list|show` shows it: its registry record and its running instance. */
export const AgentView = AgentMetadata.extend({ instance: AgentInstance.optional() });
export type AgentView = z.infer<typeof AgentView>;

// Bodies the registry would not give back as sent (a lone surrogate in a title) are refused by field.
export const NewArtifact = Artifact.omit({ created_at: true, writer: true }).superRefine(storable);
export type NewArtifact = z.input<typeof NewArtifact>;

export const NewKnowledge = Knowledge.omit({ created_at: true, expires_at: true })
  .extend({ ttl_minutes: TtlMinutes })
  .superRefine(storable);
export type NewKnowledge = z.input<typeof NewKnowledge>;

/** Artifacts and shared context written in one request: a task step's parts, or its result and what it shares. */
export const NewWrites = z
  .object({
    artifacts: z.array(NewArtifact).max(64).default([]),
    knowledge: z.array(NewKnowledge).max(64).default([]),
  })
  .refine((w) => w.artifacts.length + w.knowledge.length > 0, 'nothing to write: give artifacts or knowledge');
export type NewWrites = z.input<typeof NewWrites>;

/** What `POST /v1/writes` stored, in the order given. */
export const WritesDone = z.object({ artifacts: z.array(ArtifactRef), knowledge: z.array(Knowledge) });
export type WritesDone = z.infer<typeof WritesDone>;

export const TaskFilter = z.object({
  feature_id: Identifier.optional(),
  agent_id: Identifier.optional(),
  status: TaskStatus.optional(),
  role: AgentRole.optional(),
});
export type TaskFilter = z.input<typeof TaskFilter>;

export const KnowledgeFilter = z.object({
  role: AgentRole.optional(),
  context_type: z.string().min(1).optional(),
  scope: z.string().min(1).optional(),
});
export type KnowledgeFilter = z.input<typeof KnowledgeFilter>;

export const DecisionFilter = z.object({ feature_id: Identifier.optional(), task_id: Identifier.optional() });
export type DecisionFilter = z.input<typeof DecisionFilter>;

export const ArtifactFilter = z.object({
  feature_id: Identifier.optional(),
  task_id: Identifier.optional(),
  kind: z.string().min(1).optional(),
});
export type ArtifactFilter = z.input<typeof ArtifactFilter>;

/** A search of the shared context: what to look for, where, and how many passages. */
export const ContextQuery = z.object({
  q: z.string().trim().min(1, 'say what to search for').max(2_000),
  feature_id: Identifier.optional(),
  k: z.coerce.number().int().min(1).max(50).default(5),
});
export type ContextQuery = z.input<typeof ContextQuery>;

/** A passage found, with its source: cite it by `source` (`artifact:<id>` or `knowledge:<key>`). */
export const ContextHit = z.object({
  source: z.string(),
  kind: z.string(),
  title: z.string(),
  text: z.string(),
  feature_id: z.string().optional(),
  author: z.string().optional(),
  score: z.number(),
});
export type ContextHit = z.infer<typeof ContextHit>;

/** An artifact as listed: everything but its content. */
export const ArtifactSummary = Artifact.omit({ content: true }).extend({ bytes: z.number().int().min(0) });
export type ArtifactSummary = z.infer<typeof ArtifactSummary>;
