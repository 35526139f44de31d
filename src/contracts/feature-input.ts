import { z } from 'zod';
import type { AgentRole, Decision, TaskStatus } from '../domain';
import { Identifier } from '../domain/timestamp';
import { ApprovalTimeoutSecs, type ApprovalRecord, type PendingApproval } from './approval';
import { acceptingOldName } from './old-spelling';

const FeatureInputFields = z.object({
  /** The feature's id (its workflow id is `feature-<id>`); absent in runs started by hand, where the workflow id says it. */
  feature_id: Identifier.optional(),
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).default(''),
  options: z
    .object({
      require_approval: z.boolean().default(true),
      approval_timeout_secs: ApprovalTimeoutSecs,
      developers: z.number().int().min(1).max(10).default(2),
      /** Review rounds before the DecisionMaker settles a rejected change. */
      max_review_rounds: z.number().int().min(1).max(10).default(2),
      /** Human rejections sent back to development before the DecisionMaker is asked. */
      max_rework_rounds: z.number().int().min(1).max(10).default(3),
      budget_usd: z.number().min(0).max(1_000_000).default(25),
      /** Each step's deadline. */
      step_deadline_secs: z
        .number()
        .int()
        .min(1)
        .max(7 * 86_400)
        .default(1_800),
    })
    // prefault: an absent options object still gets every default above.
    .prefault({}),
});
/** featureWorkflow's input; `options.require_approval` was spelled `requireApproval` before 0.3. */
export const FeatureInput = acceptingOldName(FeatureInputFields, {
  old: 'requireApproval',
  current: 'require_approval',
  within: 'options',
});
export type FeatureInput = z.input<typeof FeatureInputFields>;
export type ParsedFeatureInput = z.infer<typeof FeatureInputFields>;
/** Each option's rule, for `vapora feature start` to check its flags by their own names. */
export const FeatureOptions = FeatureInputFields.shape.options.unwrap();

export type FeaturePhase =
  | 'planning'
  | 'designing'
  | 'developing'
  | 'reviewing'
  | 'testing'
  | 'security'
  | 'awaiting-approval'
  | 'deploying'
  | 'monitoring'
  | 'reporting'
  | 'completed'
  | 'aborted'
  | 'failed';

export interface FeatureStep {
  name: string;
  role: AgentRole;
  task_id: string;
  status: TaskStatus;
  agent_id?: string;
  verdict?: string;
  cost_usd: number;
  /** Children that run on their own (documenter, marketer): the feature never waits for them. */
  detached?: boolean;
}

/** The `status` query of a feature: everything the Web UI and `vapora feature status` show. */
export interface FeatureStatus {
  feature_id: string;
  title: string;
  phase: FeaturePhase;
  round: number;
  steps: FeatureStep[];
  pending_approval: PendingApproval | null;
  approvals: ApprovalRecord[];
  decisions: Pick<Decision, 'id' | 'decision_type' | 'decision' | 'made_by' | 'reasoning'>[];
  costs: { total_usd: number; tokens: number; budget_usd: number };
  /** The feature's git workspace: what it changed is `base`..`commit` (see `vapora feature diff`). */
  workspace?: { repo: string; base: string; commit: string; url?: string };
  error?: string;
}
