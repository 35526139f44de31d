import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AgentManifest, AgentRole, PoolUpgrade } from '../src/domain';
import type { FleetService } from '../src/control-plane/fleet-service';
import {
  agentDeployedSignal,
  type DeployedAgent,
  type Deployment,
  type HealthStats,
  type UpgradePlan,
  type WatchOutcome,
} from '../src/contracts/fleet';
import type { UpgradeRequest } from '../src/contracts/upgrade-request';

/**
 * Heartbeats while `work` runs, so a crashed worker is noticed within the
 * heartbeat timeout rather than the whole start-to-close timeout.
 */
async function withHeartbeats<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Fleet activities: each a call into FleetService, where the logic is tested on its own (a deploy then tells its pool). */
export function createFleetActivities(fleet: FleetService, temporal: Client) {
  return {
    async installManifest(
      manifestId: string,
      manifest?: AgentManifest,
    ): Promise<{ role: AgentRole; version: string; warnings: string[] }> {
      return fleet.installManifest(manifestId, manifest);
    },
    async prepareUpgrade(
      manifestId: string,
      pinned: string | undefined,
      request: UpgradeRequest,
    ): Promise<UpgradePlan> {
      return fleet.prepareUpgrade(manifestId, pinned, request);
    },
    async recordUpgrade(upgrade: PoolUpgrade): Promise<void> {
      return fleet.recordUpgrade(upgrade);
    },
    async agentStatus(agentId: string): Promise<string | undefined> {
      return fleet.agentStatus(agentId);
    },
    async dependentsOf(manifestId: string): Promise<string[]> {
      return fleet.dependentsOf(manifestId);
    },
    /**
     * Deploys the instance, then tells its pool (`pool`, the lifecycle's parent) it is up: from here, where the
     * lifecycle's own signal cost it a command and one more workflow task for each instance.
     */
    async deployAgent(agentId: string, manifestId: string, version?: string, pool?: string): Promise<DeployedAgent> {
      const deployed = await withHeartbeats(() => fleet.deployAgent(agentId, manifestId, version));
      if (pool)
        await temporal.workflow
          .getHandle(pool)
          .signal(agentDeployedSignal, agentId)
          // A pool that is gone has nobody left to tell.
          .catch((error: unknown) => {
            if (!(error instanceof WorkflowNotFoundError)) throw error;
          });
      return deployed;
    },
    /** Long-running: returns only when the agent needs a decision; heartbeats carry its stats across retries. */
    async watchHealth(agentId: string, agent: DeployedAgent, stats: HealthStats): Promise<WatchOutcome> {
      const ctx = Context.current();
      const resumed = (ctx.info.heartbeatDetails as HealthStats | undefined) ?? stats;
      return fleet.watchHealth(agentId, agent, resumed, {
        heartbeat: (d) => ctx.heartbeat(d),
        signal: ctx.cancellationSignal,
      });
    },
    async restartAgent(agentId: string, manifestId: string, reason: string, version?: string): Promise<Deployment> {
      return withHeartbeats(() => fleet.restartAgent(agentId, manifestId, reason, version));
    },
    async markAgentError(agentId: string, reason: string): Promise<void> {
      return fleet.markError(agentId, reason);
    },
    async stopAgent(
      agentId: string,
      manifestId: string,
      reason: string,
      status?: 'Inactive' | 'Updating',
      version?: string,
    ): Promise<void> {
      return withHeartbeats(() => fleet.stopAgent(agentId, manifestId, reason, status, version));
    },
  };
}
