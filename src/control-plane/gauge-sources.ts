import type { Client } from '@temporalio/client';
import { statusLabel } from '../domain';
import { featureStatus } from '../client/feature-status';
import type { FeaturePhase } from '../contracts/feature-input';
import type { GaugeSources } from '../observability/metrics';
import type { RegistryStore } from '../registry/registry-store';

const ENDED: FeaturePhase[] = ['completed', 'aborted', 'failed'];
const FEATURES = 'WorkflowType = "featureWorkflow"';

/** The control plane's gauges, read at each scrape: agents from the registry, features from Temporal's visibility. */
export function gaugeSources(registry: RegistryStore, temporal: Client): GaugeSources {
  const count = async (query: string) => (await temporal.workflow.count(query)).count;
  return {
    agents: async () => (await registry.agents.list()).map((a) => ({ role: a.role, status: statusLabel(a.status) })),
    approvalsPending: () => count(`${FEATURES} AND ExecutionStatus = "Running" AND VaporaStatus = "awaiting-approval"`),
    featuresEnded: async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        await Promise.all(
          ENDED.map(async (phase): Promise<[string, number]> => [
            phase,
            await count(`${FEATURES} AND ExecutionStatus != "Running" AND VaporaStatus = "${phase}"`),
          ]),
        ),
      ),
    registryQueries: () => registry.queries,
    // A query per running feature: they are few, and their state lives in their workflows.
    featureBudgetUsed: async () => {
      let most = 0;
      for await (const run of temporal.workflow.list({ query: `${FEATURES} AND ExecutionStatus = "Running"` })) {
        // One that ended since it was listed has no budget left to watch.
        const status = await featureStatus(temporal, run.workflowId.replace(/^feature-/, '')).catch(() => undefined);
        if (status && status.costs.budget_usd > 0)
          most = Math.max(most, status.costs.total_usd / status.costs.budget_usd);
      }
      return most;
    },
  };
}
