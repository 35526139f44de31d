/** Each agent instance polls its own task queue. Kept apart from the schemas so workflow code can import it cheaply. */
export const agentTaskQueue = (agentId: string) => `agent-${agentId}`;

/** The task dispatchers of a control-plane queue poll a queue of their own, so their updates never wait behind the tasks' workflows. */
export const dispatchTaskQueue = (taskQueue: string) => `${taskQueue}-dispatch`;
