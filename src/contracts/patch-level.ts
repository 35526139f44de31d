/**
 * Every `patched()` a run calls costs it a marker and an upsert of
 * `TemporalChangeVersion` (a visibility write of its own). Runs that Vapora's
 * own starters begin carry this memo instead, saying every change listed
 * below applies to them, so they call `patched()` for none of these; runs
 * begun before, or started by hand without the memo, call it as they always
 * did (workflows/patches.ts). A later change joins a new level.
 */
export const PATCH_LEVEL_MEMO = 'vapora_patch_level';

/** The changes each level means, in order: level n means every change of levels 1 to n. */
export const PATCH_LEVELS: readonly (readonly string[])[] = [
  [
    'input-parsed-in-worker',
    'business-ids-in-inputs',
    'tool-loop',
    'activity-timeout-is-deadline',
    'feature-workspace',
    'assignment-wake-up',
    'approval-seals-checked',
    'start-forgets-earlier-loss',
    'dispatcher-starts-tasks-by-activity',
    'task-lean-attributes-and-deadline',
  ],
  ['gate-waits-for-its-handlers', 'assignment-gives-up-by-timer'],
  ['assignment-timed-by-its-asks', 'approvals-taken-as-the-gate-opens', 'agent-in-error-tried-again'],
  ['approvals-taken-after-a-timer', 'wake-up-always-timed'],
  ['wake-kept-until-it-cuts-a-wait'],
  ['deploy-tells-the-pool'],
  ['pool-stops-by-activity'],
  ['pool-starts-in-a-window'],
];

/** What this release's starters put in a run's memo. */
export const patchLevelMemo = () => ({ [PATCH_LEVEL_MEMO]: PATCH_LEVELS.length });
