import type { Config } from '../config';

/** Users may name a feature by its id or its workflow id: `abc` and `feature-abc` are the same feature. */
export const featureWorkflowId = (id: string) => (id.startsWith('feature-') ? id : `feature-${id}`);

/** A feature or task workflow id: `task-…` stays a task, anything else is a feature. */
export const gatedWorkflowId = (id: string) => (id.startsWith('task-') ? id : featureWorkflowId(id));

/** Where a person sees the workflow in the Temporal Web UI of the dev server. */
export const webUiLink = (config: Config, workflowId: string) =>
  `http://localhost:${config.temporal.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
