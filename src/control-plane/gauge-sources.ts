import type { Client } from '@temporalio/client';
import { statusLabel } from '../domain';
import { featureStatus } from '../client/feature-status';
import type { FeaturePhase } from '../contracts/feature-input';
import type { GaugeSources } from '../observability/metrics';
import type { RegistryStore } from '../registry/registry-store';
import { visibilityLiteral } from '../temporal/visibility-literal';

const ENDED: FeaturePhase[] = ['completed', 'aborted', 'failed'];
/**
 * How long a scrape waits for one feature's status. A feature whose workflow no worker answers for (its workflow
 * task failing, say) would otherwise hold the scrape for the server's 30 s, past any scrape timeout.
 */
const STATUS_WITHIN_MS = 500;

/**
 * The control plane's gauges, read at each scrape: agents from the registry, and the features of this control
 * plane's task queue from Temporal's visibility. Features of other task queues in the namespace are not its own:
 * their workers may be gone, and a query to one of them waits for the server's timeout.
 */
export function gaugeSources(registry: RegistryStore, temporal: Client, taskQueue: string): GaugeSources {
  const FEATURES = `WorkflowType = "featureWorkflow" AND TaskQueue = ${visibilityLiteral(taskQueue)}`;
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
    // A query per running feature, all at once: they are few, and their state lives in their workflows.
    featureBudgetUsed: async () => {
      const asked: Promise<number>[] = [];
      for await (const run of temporal.workflow.list({ query: `${FEATURES} AND ExecutionStatus = "Running"` }))
        asked.push(
          temporal
            .withDeadline(Date.now() + STATUS_WITHIN_MS, () =>
              featureStatus(temporal, run.workflowId.replace(/^feature-/, '')),
            )
            .then(
              ({ costs }) => (costs.budget_usd > 0 ? costs.total_usd / costs.budget_usd : 0),
              // One that ended since it was listed has no budget left to watch; one that did not answer is not counted.
              () => 0,
            ),
        );
      return Math.max(0, ...(await Promise.all(asked)));
    },
  };
}
