/** Each agent instance polls its own task queue. Kept apart from the schemas so workflow code can import it cheaply. */
export const agentTaskQueue = (agentId: string) => `agent-${agentId}`;
