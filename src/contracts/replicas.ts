/** The most instances one pool runs. */
export const MAX_REPLICAS = 1000;

/**
 * Child starts a pool leaves waiting on the server at a time. The server starts a parent's children one at a
 * time, each holding the parent's lock; a thousand waiting at once mostly timed out on that lock and were retried
 * later with a growing backoff, so a scale to 1000 brought up a few instances a second.
 */
export const POOL_STARTS_AT_ONCE = 25;
