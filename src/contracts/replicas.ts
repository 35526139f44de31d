/** The most instances one pool runs. */
export const MAX_REPLICAS = 1000;
