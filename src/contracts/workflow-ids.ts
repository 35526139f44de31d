/**
 * Every workflow id Vapora builds, in one place; the business id travels in
 * each workflow's input, so nothing parses it back out of these.
 */
export const featureWorkflowId = (featureId: string) => `feature-${featureId}`;
export const taskWorkflowId = (taskId: string) => `task-${taskId}`;
export const poolWorkflowId = (manifestId: string) => `pool-${manifestId}`;
export const agentLifecycleWorkflowId = (agentId: string) => `agent-${agentId}`;

/** The patch behind which workflows pass the business id in the inputs of the workflows they start. */
export const BUSINESS_IDS_IN_INPUTS = 'business-ids-in-inputs';

/**
 * The way back, for ids that come without their business id: runs started
 * before inputs carried it, workflows started by hand with the `temporal`
 * CLI, pools found by listing workflows.
 */
export const featureIdOf = (workflowId: string) => workflowId.replace(/^feature-/, '');
export const taskIdOf = (workflowId: string) => workflowId.replace(/^task-/, '');
export const manifestIdOf = (poolWorkflowId: string) => poolWorkflowId.replace(/^pool-/, '');

/** Users may name a feature by its id or its workflow id: `abc` and `feature-abc` are the same feature. */
export const userFeatureWorkflowId = (id: string) => (id.startsWith('feature-') ? id : featureWorkflowId(id));

/** A feature or task workflow id as a user names it: `task-…` stays a task, anything else is a feature. */
export const gatedWorkflowId = (id: string) => (id.startsWith('task-') ? id : userFeatureWorkflowId(id));
