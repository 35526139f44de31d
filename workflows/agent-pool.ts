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
  agentDeployedSignal,
  agentIdFor,
  poolStatusQuery,
  scalePoolUpdate,
  stopAgentSignal,
  uninstallPoolUpdate,
  type PoolInput,
  type PoolPhase,
  type PoolStatus,
} from '../src/contracts/fleet';
import { agentLifecycleWorkflow } from './agent-lifecycle';
import { agentLifecycleWorkflowId } from '../src/contracts/workflow-ids';

const { installManifest, dependentsOf } = proxyActivities<Activities>({
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

/**
 * The desired replica count of one manifest (`pool-<manifestId>`): installs it
 * (dependency check), then keeps one agentLifecycleWorkflow child per instance.
 * `scale` moves 1 → N → 1; scaling down drains the highest-numbered instances.
 */
export async function agentPoolWorkflow(input: PoolInput): Promise<PoolStatus> {
  const { manifestId } = input;
  checkReplicas(input.replicas);
  let phase: PoolPhase = 'installing';
  let desired = input.replicas;
  let uninstalling = false;
  const children = new Map<string, ChildWorkflowHandle<typeof agentLifecycleWorkflow>>();
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
  });
  const settled = () =>
    phase === 'running' && children.size === desired && [...children.keys()].every((id) => ready.has(id));
  const enter = (next: PoolPhase) => {
    phase = next;
    upsertSearchAttributes([{ key: VaporaStatus, value: next }]);
  };

  setHandler(poolStatusQuery, status);
  // A child's signal can arrive in the same activation as its start (signals are handled first), so `starting` counts too.
  const starting = new Set<string>();
  setHandler(
    agentDeployedSignal,
    (agentId) => void ((children.has(agentId) || starting.has(agentId)) && ready.add(agentId)),
  );
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
        if (uninstalling) throw ApplicationFailure.nonRetryable(`${manifestId} is being uninstalled`, 'InvalidState');
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

  const { role, warnings: installWarnings } = await installManifest(manifestId, input.manifest).catch(
    (error: unknown) => {
      // Say why the install was refused at the top of the workflow failure, not two causes down.
      if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)
        throw ApplicationFailure.nonRetryable(error.cause.message, error.cause.type ?? 'InstallRefused');
      throw error;
    },
  );
  warnings = installWarnings;
  upsertSearchAttributes([
    { key: VaporaManifestId, value: manifestId },
    { key: VaporaRole, value: role },
  ]);

  const start = async (agentId: string) => {
    starting.add(agentId);
    const child = await startChild(agentLifecycleWorkflow, {
      workflowId: agentLifecycleWorkflowId(agentId),
      args: [{ agentId, manifestId }],
      // Cancelling a lifecycle stops its instance, so closing the pool leaves no process behind.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: VaporaAgentId, value: agentId },
        { key: VaporaManifestId, value: manifestId },
        { key: VaporaRole, value: role },
      ],
      staticSummary: `${role} agent ${agentId}`,
    });
    starting.delete(agentId);
    children.set(agentId, child);
    // A lifecycle that ends on its own (not stopped by us) is replaced by the reconcile loop,
    // unless it failed before its instance ever came up: then the pool stops growing and says why.
    void child.result().then(
      () => forget(agentId),
      (error: unknown) => {
        if (!ready.has(agentId) && !stopping.has(agentId)) {
          deployFailure = failureMessage(error);
          desired = Math.min(desired, children.size - stopping.size - 1);
        }
        forget(agentId);
      },
    );
  };
  const forget = (agentId: string) => {
    children.delete(agentId);
    ready.delete(agentId);
    stopping.delete(agentId);
  };
  const stop = async (agentId: string) => {
    stopping.add(agentId);
    await children.get(agentId)?.signal(stopAgentSignal, { reason: uninstalling ? 'uninstalled' : 'scaled down' });
    await condition(() => !children.has(agentId));
  };

  enter('running');
  for (;;) {
    await condition(() => children.size - stopping.size !== desired || (uninstalling && children.size === 0));
    if (uninstalling && children.size === 0) break;
    enter(uninstalling ? 'uninstalling' : 'scaling');
    const live = [...children.keys()].filter((id) => !stopping.has(id)).sort();
    if (live.length < desired) {
      const missing: string[] = [];
      for (let n = 1; missing.length < desired - live.length; n++)
        if (!children.has(agentIdFor(manifestId, n))) missing.push(agentIdFor(manifestId, n));
      await Promise.all(missing.map(start));
      await condition(() => missing.every((id) => ready.has(id) || !children.has(id)) || desired < children.size);
    } else {
      await Promise.all(live.slice(desired).map(stop));
    }
    enter('running');
  }
  await condition(allHandlersFinished);
  return status();
}
