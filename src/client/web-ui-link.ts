import type { Config } from '../config';

/** Where a person sees the workflow (or, without one, the namespace's workflows) in the Temporal Web UI of the dev server. */
export const webUiLink = (config: Config, workflowId?: string) =>
  `http://localhost:${config.temporal.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows${workflowId ? `/${encodeURIComponent(workflowId)}` : ''}`;

/** Where a person sees the workflow's trace in Jaeger (its spans carry the workflow id), when Jaeger runs. */
export const traceLink = (config: Config, workflowId: string) =>
  config.observability.jaegerUi &&
  `${config.observability.jaegerUi.replace(/\/$/, '')}/search?service=vapora-control-plane&tags=${encodeURIComponent(JSON.stringify({ temporalWorkflowId: workflowId }))}`;
