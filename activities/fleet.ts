import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { AgentManifest, AgentRole, PoolUpgrade } from '../src/domain';
import type { FleetService } from '../src/control-plane/fleet-service';
import { unlessGone } from '../src/temporal/unless-gone';
import {
  agentsDeployedSignal,
  stopAgentSignal,
  type StopRequest,
  type DeployedAgent,
  type Deployment,
  type HealthStats,
  type UpgradePlan,
  type WatchOutcome,
} from '../src/contracts/fleet';
import type { UpgradeRequest } from '../src/contracts/upgrade-request';
import { WriteBatch } from '../src/host/write-batch';
import { agentLifecycleWorkflowId } from '../src/contracts/workflow-ids';

/**
 * Heartbeats while `work` runs, so a crashed worker is noticed within the
 * heartbeat timeout rather than the whole start-to-close timeout. The first
 * beat comes half a timeout in: each beat is a write on the server (the SDK
 * sends the first at once), and a deploy or a stop mostly ends before one is due.
 */
async function withHeartbeats<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), beatEvery(ctx));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Half the activity's heartbeat timeout: a beat that late still reaches the server in time. */
const beatEvery = (ctx: Context) => (ctx.info.heartbeatTimeoutMs ?? 2_000) / 2;

const POOL_TOLD_EVERY_MS = 1_000;

/** Fleet activities: each a call into FleetService, where the logic is tested on its own (a deploy then tells its pool). */
export function createFleetActivities(fleet: FleetService, temporal: Client) {
  /**
   * Each pool's deploys, told in one signal a second at most: a signal is a write of the pool's record and a workflow
   * task, which hold the pool's lock on the server, where the pool's child starts of a scale wait for it.
   */
  const deployedIn = new Map<string, WriteBatch<string>>();
  const tell = (pool: string, agentId: string) => {
    let batch = deployedIn.get(pool);
    if (!batch) {
      batch = new WriteBatch(
        (agentIds) =>
          temporal.workflow
            .getHandle(pool)
            .signal(agentsDeployedSignal, agentIds)
            // A pool that is gone has nobody left to tell.
            .catch(unlessGone),
        POOL_TOLD_EVERY_MS,
      );
      deployedIn.set(pool, batch);
    }
    return batch.add(agentId);
  };
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
     * Deploys the instance, then tells its pool (`pool`, the lifecycle's parent) it is up, with the pool's other
     * deploys of the moment: from here, where the lifecycle's own signal cost it a command and one more workflow
     * task for each instance, and the pool an event for each.
     */
    async deployAgent(agentId: string, manifestId: string, version?: string, pool?: string): Promise<DeployedAgent> {
      const deployed = await withHeartbeats(() => fleet.deployAgent(agentId, manifestId, version));
      if (pool) await tell(pool, agentId);
      return deployed;
    },
    /**
     * Asks these instances' lifecycles to stop, from here: the pool's own signal to each cost it two events and a
     * write. A lifecycle that has ended already needs no asking.
     */
    async stopLifecycles(agentIds: string[], stop: StopRequest): Promise<void> {
      await Promise.all(
        agentIds.map((agentId) =>
          temporal.workflow
            .getHandle(agentLifecycleWorkflowId(agentId))
            .signal(stopAgentSignal, stop)
            .catch(unlessGone),
        ),
      );
    },
    /**
     * Long-running: returns only when the agent needs a decision; heartbeats carry its stats across retries. Each
     * beat is a write on the server, and the SDK sends the first at once: the watch beats only once half its timeout
     * has passed since its start or its last beat (the server counts the timeout from the start).
     */
    async watchHealth(agentId: string, agent: DeployedAgent, stats: HealthStats): Promise<WatchOutcome> {
      const ctx = Context.current();
      const resumed = (ctx.info.heartbeatDetails as HealthStats | undefined) ?? stats;
      const every = beatEvery(ctx);
      let lastBeat = Date.now();
      return fleet.watchHealth(agentId, agent, resumed, {
        heartbeat: (details) => {
          if (Date.now() - lastBeat < every) return;
          lastBeat = Date.now();
          ctx.heartbeat(details);
        },
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
