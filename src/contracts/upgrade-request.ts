import { z } from 'zod';
import { AgentManifest, SemVer } from '../domain';
import { MAX_REPLICAS } from './replicas';

/** `vapora agent upgrade`: the version to move to (or the manifest that brings it), and how fast. */
export const UpgradeRequest = z
  .object({
    to: SemVer.optional(),
    manifest: AgentManifest.optional(),
    /** Back to the version before the last completed upgrade (`vapora agent rollback`). */
    previous: z.boolean().optional(),
    /** Old instances stopped before their replacements are healthy; 0 keeps the pool at full strength throughout. */
    maxUnavailable: z.number().int().min(0).max(MAX_REPLICAS).default(0),
    force: z.boolean().default(false),
  })
  .refine((r) => [r.to, r.manifest, r.previous].filter(Boolean).length <= 1, {
    message: 'give one of a version, a manifest, or previous',
  });
export type UpgradeRequest = z.input<typeof UpgradeRequest>;
export type ParsedUpgradeRequest = z.infer<typeof UpgradeRequest>;
