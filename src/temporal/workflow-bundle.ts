import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const WORKFLOWS = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/**
 * Vapora's workflows, bundled for the workers. The reusable V8 context
 * evaluates a bundle's modules afresh for every run it starts, unless they
 * are preloaded into the context once; Vapora's workflow modules keep no state
 * of their own at module scope (constants, message definitions and activity
 * proxies only), so all of them are, and a run starts without evaluating
 * them. Tracing's interceptor module, which does keep state, is a plugin's
 * and still loads per run; zod loads on first use (see workflows/validate-input.ts).
 */
export function bundleWorkflows(
  options: Omit<BundleOptions, 'workflowsPath' | 'preloadModules'> = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ ...options, workflowsPath: WORKFLOWS, preloadModules: [WORKFLOWS] });
}
