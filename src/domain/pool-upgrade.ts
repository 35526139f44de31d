import { z } from 'zod';
import { SemVer } from './semver';
import { Identifier, Timestamp } from './timestamp';

/** How a rolling upgrade of a pool ended (`running` while it goes on). */
export const UpgradeOutcome = z.enum(['running', 'completed', 'rolled-back']);
export type UpgradeOutcome = z.infer<typeof UpgradeOutcome>;

/** One rolling upgrade of a pool, kept for `vapora agent history`. */
export const PoolUpgrade = z.object({
  /** `<manifest_id>/<started_at>`. */
  id: z.string().min(1),
  manifest_id: Identifier,
  from_version: SemVer,
  to_version: SemVer,
  started_at: Timestamp,
  finished_at: Timestamp.optional(),
  outcome: UpgradeOutcome,
  /** Why it rolled back. */
  reason: z.string().optional(),
  /** Instances replaced by new-version ones. */
  replaced: z.number().int().min(0).default(0),
});
export type PoolUpgrade = z.infer<typeof PoolUpgrade>;
