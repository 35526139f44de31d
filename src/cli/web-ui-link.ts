import type { Config } from '../config';

/** Where a person sees the workflow in the Temporal Web UI of the dev server. */
export const webUiLink = (config: Config, workflowId: string) =>
  `http://localhost:${config.temporal.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
