/**
 * Every workflow id Vapora builds, in one place; the business id travels in
 * each workflow's input, so nothing parses it back out of these.
 */
export const featureWorkflowId = (featureId: string) => `feature-${featureId}`;
export const taskWorkflowId = (taskId: string) => `task-${taskId}`;
export const poolWorkflowId = (manifestId: string) => `pool-${manifestId}`;
export const agentLifecycleWorkflowId = (agentId: string) => `agent-${agentId}`;

/** Users may name a feature by its id or its workflow id: `abc` and `feature-abc` are the same feature. */
export const userFeatureWorkflowId = (id: string) => (id.startsWith('feature-') ? id : featureWorkflowId(id));

/** A feature or task workflow id as a user names it: `task-…` stays a task, anything else is a feature. */
export const gatedWorkflowId = (id: string) => (id.startsWith('task-') ? id : userFeatureWorkflowId(id));
