import { patched, workflowInfo } from '@temporalio/workflow';
import { PATCH_LEVELS, PATCH_LEVEL_MEMO } from '../src/contracts/patch-level';

/**
 * Whether the change `patchId` applies to this run: at once, with no marker
 * and no search-attribute upsert, when the run's starter said so in its memo
 * (see src/contracts/patch-level.ts); otherwise as `patched()` says.
 */
export function applies(patchId: string): boolean {
  const level = workflowInfo().memo?.[PATCH_LEVEL_MEMO];
  const known = typeof level === 'number' && PATCH_LEVELS.slice(0, level).some((ids) => ids.includes(patchId));
  return known || patched(patchId);
}
