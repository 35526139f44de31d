import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { failureMessage } from '../src/temporal/failure-message';
import { VaporaAgentId, VaporaManifestId, VaporaRole, VaporaStatus } from '../src/temporal/search-attributes';
import {
  MAX_REPLICAS,
  POOL_STARTS_AT_ONCE,
  agentDeployedSignal,
  agentIdFor,
  agentsDeployedSignal,
  poolStatusQuery,
  scalePoolUpdate,
  stopAgentSignal,
  uninstallPoolUpdate,
  upgradePoolUpdate,
  type PoolInput,
  type PoolPhase,
  type PoolStatus,
  type UpgradePlan,
  type UpgradeResult,
} from '../src/contracts/fleet';
import type { PoolUpgrade } from '../src/domain/pool-upgrade';
import { agentLifecycleWorkflow } from './agent-lifecycle';
import { agentLifecycleWorkflowId } from '../src/contracts/workflow-ids';
import { applies } from './patches';
import { patchLevelMemo } from '../src/contracts/patch-level';

// Runs begun before signalled each instance's lifecycle to stop themselves: two events and a write for each.
const STOPS_BY_ACTIVITY = 'pool-stops-by-activity';
// Runs begun before started every missing instance at once.
const STARTS_IN_A_WINDOW = 'pool-starts-in-a-window';

const { installManifest, dependentsOf, prepareUpgrade, recordUpgrade, agentStatus, stopLifecycles } =
  proxyActivities<Activities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '1s', maximumInterval: '10s' },
  });

function checkReplicas(replicas: unknown): void {
  if (!Number.isInteger(replicas) || (replicas as number) < 0 || (replicas as number) > MAX_REPLICAS) {
    throw ApplicationFailure.nonRetryable(
      `replicas: must be an integer from 0 to ${MAX_REPLICAS} (got ${JSON.stringify(replicas)})`,
      'InvalidInput',
    );
  }
}

/** The reason inside an activity's refusal, at the top of the failure rather than two causes down. */
function refusal(error: unknown, type: string): never {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)
    throw ApplicationFailure.nonRetryable(error.cause.message, error.cause.type ?? type);
  throw error;
}

/**
 * The desired replica count of one manifest (`pool-<manifestId>`): installs it
 * (dependency check), then keeps one agentLifecycleWorkflow child per instance,
 * all on the version the pool runs. `scale` moves 1 → N → 1; scaling down
 * drains the highest-numbered instances. `upgrade` rolls the pool to another
 * version: a new instance, healthy, then an old one drained, and so on; a new
 * instance that never becomes healthy rolls the pool back.
 */
export async function agentPoolWorkflow(input: PoolInput): Promise<PoolStatus> {
  const { manifestId } = input;
  checkReplicas(input.replicas);
  let phase: PoolPhase = 'installing';
  let desired = input.replicas;
  let uninstalling = false;
  let upgrading = false;
  /** The version new instances run; pools installed before versions were pinned leave it to each deploy. */
  let version: string | undefined;
  const children = new Map<string, ChildWorkflowHandle<typeof agentLifecycleWorkflow>>();
  const versions = new Map<string, string>();
  /** Why an instance's lifecycle ended before it was ever ready. */
  const lost = new Map<string, string>();
  const ready = new Set<string>();
  const stopping = new Set<string>();
  let warnings: string[] = [];
  /** Why an instance could not be deployed (a refusal such as a forbidden namespace): the scale fails with it instead of retrying forever. */
  let deployFailure: string | undefined;

  const status = (): PoolStatus => ({
    manifestId,
    phase,
    desired,
    agents: [...children.keys()].sort(),
    ready: [...ready].sort(),
    warnings,
    version,
    versions: Object.fromEntries([...versions].sort()),
  });
  const settled = () =>
    phase === 'running' && children.size === desired && [...children.keys()].every((id) => ready.has(id));
  const enter = (next: PoolPhase) => {
    phase = next;
    upsertSearchAttributes([{ key: VaporaStatus, value: next }]);
  };

  setHandler(poolStatusQuery, status);
  // Before the handlers: an update that arrived with the start is validated as its handler is set.
  const refuseWhileChanging = () => {
    if (uninstalling) throw ApplicationFailure.nonRetryable(`${manifestId} is being uninstalled`, 'InvalidState');
    if (upgrading) throw ApplicationFailure.nonRetryable(`${manifestId} is being upgraded`, 'InvalidState');
  };
  // A child's signal can arrive in the same activation as its start (signals are handled first), so `starting` counts too.
  const starting = new Set<string>();
  const deployed = (agentId: string) => void ((children.has(agentId) || starting.has(agentId)) && ready.add(agentId));
  setHandler(agentDeployedSignal, deployed);
  setHandler(agentsDeployedSignal, (agentIds) => (Array.isArray(agentIds) ? agentIds : []).forEach(deployed));
  setHandler(
    scalePoolUpdate,
    async (replicas) => {
      desired = replicas;
      deployFailure = undefined;
      await condition(() => settled() || uninstalling || deployFailure !== undefined);
      if (deployFailure !== undefined) throw ApplicationFailure.nonRetryable(deployFailure, 'DeployFailed');
      return status();
    },
    {
      validator: (replicas) => {
        checkReplicas(replicas);
        refuseWhileChanging();
      },
    },
  );
  setHandler(
    upgradePoolUpdate,
    async (request): Promise<UpgradeResult> => {
      upgrading = true;
      try {
        const plan = await prepareUpgrade(manifestId, version, request).catch((error: unknown) =>
          refusal(error, 'UpgradeRefused'),
        );
        return await rollOut(plan);
      } finally {
        upgrading = false;
        if (phase === 'upgrading') enter('running');
      }
    },
    {
      // The request itself is parsed by the control plane (prepareUpgrade), where zod runs.
      validator: (_request) => {
        refuseWhileChanging();
        if (phase === 'installing')
          throw ApplicationFailure.nonRetryable(`${manifestId} is still installing`, 'InvalidState');
      },
    },
  );
  setHandler(uninstallPoolUpdate, async ({ force }) => {
    const dependents = (await dependentsOf(manifestId)).filter((id) => id !== manifestId);
    if (dependents.length && !force) return { uninstalled: false, dependents };
    uninstalling = true;
    desired = 0;
    await condition(() => children.size === 0);
    return { uninstalled: true, dependents };
  });

  const installed = await installManifest(manifestId, input.manifest).catch((error: unknown) =>
    refusal(error, 'InstallRefused'),
  );
  const { role } = installed;
  warnings = installed.warnings;
  version = installed.version;
  upsertSearchAttributes([
    { key: VaporaManifestId, value: manifestId },
    { key: VaporaRole, value: role },
  ]);

  const start = async (agentId: string) => {
    starting.add(agentId);
    // Ids are reused once their instance is gone: how an earlier lifecycle of this id ended is no longer news.
    if (applies('start-forgets-earlier-loss')) lost.delete(agentId);
    const at = version;
    const child = await startChild(agentLifecycleWorkflow, {
      workflowId: agentLifecycleWorkflowId(agentId),
      args: [{ agentId, manifestId, ...(at && { version: at }) }],
      // Cancelling a lifecycle stops its instance, so closing the pool leaves no process behind.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      // Runs this code: every change it knows of applies, with no marker for each (see src/contracts/patch-level.ts).
      memo: patchLevelMemo(),
      typedSearchAttributes: [
        { key: VaporaAgentId, value: agentId },
        { key: VaporaManifestId, value: manifestId },
        { key: VaporaRole, value: role },
      ],
      staticSummary: `${role} agent ${agentId}`,
    });
    starting.delete(agentId);
    children.set(agentId, child);
    if (at) versions.set(agentId, at);
    // A lifecycle that ends on its own (not stopped by us) is replaced by the reconcile loop,
    // unless it failed before its instance ever came up: then the pool stops growing and says why.
    void child.result().then(
      () => forget(agentId),
      (error: unknown) => {
        if (!ready.has(agentId) && !stopping.has(agentId)) {
          lost.set(agentId, failureMessage(error));
          // An upgrade judges its own new instances; a scale stops growing.
          if (!upgrading) {
            deployFailure = lost.get(agentId);
            desired = Math.min(desired, children.size - stopping.size - 1);
          }
        }
        forget(agentId);
      },
    );
  };
  /** Starts these instances, at most POOL_STARTS_AT_ONCE waiting on the server at a time. */
  const startAll = async (agentIds: string[]) => {
    if (agentIds.length <= POOL_STARTS_AT_ONCE || !applies(STARTS_IN_A_WINDOW)) {
      await Promise.all(agentIds.map(start));
      return;
    }
    const queue = [...agentIds];
    const startNext = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await start(id);
    };
    await Promise.all(Array.from({ length: POOL_STARTS_AT_ONCE }, startNext));
  };
  const forget = (agentId: string) => {
    children.delete(agentId);
    ready.delete(agentId);
    stopping.delete(agentId);
    versions.delete(agentId);
  };
  /** Stops these instances and waits until their lifecycles have ended. */
  const stop = async (agentIds: string[], reason = uninstalling ? 'uninstalled' : 'scaled down', updating = false) => {
    for (const id of agentIds) stopping.add(id);
    const running = agentIds.filter((id) => children.has(id));
    if (!applies(STOPS_BY_ACTIVITY))
      await Promise.all(running.map((id) => children.get(id)!.signal(stopAgentSignal, { reason, updating })));
    else if (running.length) await stopLifecycles(running, { reason, updating });
    await condition(() => agentIds.every((id) => !children.has(id)));
  };
  const live = () => [...children.keys()].filter((id) => !stopping.has(id)).sort();
  /** The `count` lowest instance ids no instance holds. */
  const freeIds = (count: number) => {
    const ids: string[] = [];
    for (let n = 1; ids.length < count; n++)
      if (!children.has(agentIdFor(manifestId, n)) && !starting.has(agentIdFor(manifestId, n)))
        ids.push(agentIdFor(manifestId, n));
    return ids;
  };

  /** Why the new instances are not fit to take over (undefined when each passed a health check in time). */
  const healthGate = async (fresh: string[], { to, healthGateMs }: UpgradePlan) => {
    const settledInTime = await condition(() => fresh.every((id) => ready.has(id) || !children.has(id)), healthGateMs);
    const gone = fresh.find((id) => lost.has(id));
    if (gone) return `${gone} (${to}) failed to deploy: ${lost.get(gone)}`;
    if (!settledInTime) return `${fresh.join(', ')} (${to}) not deployed within ${healthGateMs / 1000}s`;
    const statuses = await Promise.all(fresh.map((id) => agentStatus(id)));
    const unhealthy = fresh.filter((_, i) => statuses[i] !== 'Active');
    return unhealthy.length
      ? `${unhealthy.join(', ')} (${to}) did not pass a health check within its threshold`
      : undefined;
  };

  const rollOut = async (plan: UpgradePlan): Promise<UpgradeResult> => {
    const { from, to, maxUnavailable } = plan;
    enter('upgrading');
    const record: PoolUpgrade = {
      id: `${manifestId}/${new Date().toISOString()}`,
      manifest_id: manifestId,
      from_version: from,
      to_version: to,
      started_at: new Date().toISOString(),
      outcome: 'running',
      replaced: 0,
    };
    await recordUpgrade(record);
    const old = live().filter((id) => versions.get(id) !== to);
    const step = Math.max(1, maxUnavailable);
    version = to;
    for (let i = 0; i < old.length; i += step) {
      const batch = old.slice(i, i + step);
      const reason = `replaced by ${to}`;
      // Up to maxUnavailable old instances drain while their replacements come up; with 0, only after.
      const draining = maxUnavailable > 0 ? stop(batch, reason, true) : undefined;
      const fresh = freeIds(batch.length);
      await startAll(fresh);
      const failure = await healthGate(fresh, plan);
      if (failure) {
        await draining;
        // Back to `from`: the new instances go, the reconcile loop restores the count on the old version.
        version = from;
        await stop(
          live().filter((id) => versions.get(id) === to || fresh.includes(id)),
          `upgrade to ${to} rolled back`,
        );
        upgrading = false;
        enter('running');
        await condition(() => settled() || uninstalling);
        await recordUpgrade({
          ...record,
          outcome: 'rolled-back',
          reason: failure,
          finished_at: new Date().toISOString(),
        });
        throw ApplicationFailure.nonRetryable(
          `upgrade of ${manifestId} to ${to} rolled back to ${from}: ${failure}`,
          'UpgradeRolledBack',
        );
      }
      await (draining ?? stop(batch, reason, true));
      record.replaced += batch.length;
    }
    await recordUpgrade({ ...record, outcome: 'completed', finished_at: new Date().toISOString() });
    return { manifestId, from, to, replaced: record.replaced, warnings: plan.warnings, pool: status() };
  };

  enter('running');
  for (;;) {
    await condition(
      () => !upgrading && (children.size - stopping.size !== desired || (uninstalling && children.size === 0)),
    );
    if (uninstalling && children.size === 0) break;
    enter(uninstalling ? 'uninstalling' : 'scaling');
    const running = live();
    if (running.length < desired) {
      const missing = freeIds(desired - running.length);
      await startAll(missing);
      await condition(() => missing.every((id) => ready.has(id) || !children.has(id)) || desired < children.size);
    } else {
      await stop(running.slice(desired));
    }
    enter('running');
  }
  await condition(allHandlersFinished);
  return status();
}
