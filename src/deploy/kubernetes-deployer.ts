import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import {
  AGENT_PORT,
  AGENT_TOKENS_SECRET,
  CODEC_KEYS,
  DELETION_COST,
  LABELS,
  deploymentName,
  type AgentEnv,
} from './agent-workload';
import type { CheckResult, Deployer, DeploySpec, HealthProbe } from './deployer';
import type { Deployment } from '../contracts/fleet';
import type { AgentManifest } from '../domain';
import { ApiCalls } from './api-calls';
import { DeploymentMembers } from './deployment-members';
import { classifyKubernetesError, isConflict, isNotFound, isPatchNotApplied } from './kubernetes-errors';
import { PodIndex, claimOf, deploymentOf, isReady, isTerminating, versionOf } from './pod-index';
import { jsonPatch, mergePatch } from './patch-strategies';

export interface KubernetesDeployerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Where agents find the stack from inside the cluster. */
  env: AgentEnv;
  /** How long a deploy waits for its pod to be Running and Ready. */
  readyTimeoutMs?: number;
  /** A pool's API token (see src/control-plane/api-auth.ts), kept in the Secret its pods read. */
  tokenFor: (manifestId: string) => string;
  /** The payload codec's keys, for pods to read from the same Secret, when payloads are encrypted. */
  codecKeys?: string;
}

interface Waiter {
  agentId: string;
  resolve: (pod: V1Pod) => void;
  reject: (error: unknown) => void;
}

/** Lower than any pod a person would mark, so the ReplicaSet removes a stopping agent's pod first. */
const STOPPING_COST = '-1000000';
/** How long a stop leaves the ReplicaSet to remove its pod before deleting it: a delete of its own is a request per agent. */
const PICKED_WITHIN_MS = 5_000;
const isStopping = (pod: V1Pod) => pod.metadata?.annotations?.[DELETION_COST] === STOPPING_COST;
const nameOf = (pod: V1Pod) => pod.metadata!.name!;
/** When the pod was created, in ms (the client gives a Date; compared as text, it would order by day name first). */
const createdAt = (pod: V1Pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime();

/**
 * Agents as pods: one Deployment per pool and version whose replicas equal its
 * members (see DeploymentMembers), so an upgrade moves instances one by one
 * from the old version's Deployment to the new one's under the pool
 * workflow's health gate. Each agent instance claims one of its pods by
 * labelling it (`vapora.dev/agent-id`, written only if the pod's labels are
 * unchanged, so two agents never claim the same pod). Restart deletes the pod and claims
 * the ReplicaSet's replacement; health is the pod's readiness, which the
 * kubelet derives from the agent's own health endpoint.
 */
export class KubernetesDeployer implements Deployer {
  /** API requests made, by verb and resource (the watch is one long request, its relists are counted as lists). */
  readonly api = new ApiCalls();
  private readonly core: CoreV1Api;
  private readonly members: DeploymentMembers;
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly reserved = new Set<string>();
  private readonly subscribed = new Set<string>();
  private readonly claiming = new Map<string, Promise<V1Pod>>();
  private readonly tokens = new Map<string, Promise<void>>();
  /** Deployments whose free pods are handed out at the end of this turn of the event loop. */
  private readonly handingOut = new Set<string>();
  private index?: Promise<PodIndex>;

  constructor(private readonly options: KubernetesDeployerOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.members = new DeploymentMembers(
      options.kubeConfig.makeApiClient(AppsV1Api),
      options.namespace,
      options.env,
      this.api,
    );
  }

  async deploy({ agentId, manifest }: DeploySpec): Promise<Deployment> {
    return this.classified(`deploying ${agentId} in namespace ${this.options.namespace}`, async () => {
      const index = await this.pods();
      await this.poolToken(manifest.id);
      await this.members.add(manifest, agentId);
      // A claimed pod can vanish before it is ready (deleted, evicted): then claim another.
      for (;;) {
        const pod = this.claimedPod(index, manifest, agentId) ?? (await this.claim(index, manifest, agentId));
        const name = nameOf(pod);
        const ready = await index.until(
          name,
          `pod ${name} of ${agentId} to be Running and Ready`,
          () => {
            const now = index.get(name);
            // The watch may not show our own claim yet; someone else's claim means the pod was lost.
            const owner = now && claimOf(now);
            if (!now || isTerminating(now) || (owner !== undefined && owner !== agentId)) return 'gone' as const;
            return owner === agentId && isReady(now) ? now : undefined;
          },
          this.options.readyTimeoutMs ?? 100_000,
        );
        if (ready !== 'gone') return toDeployment(agentId, ready);
      }
    });
  }

  async stop(agentId: string, manifestId: string, version?: string): Promise<void> {
    return this.classified(`stopping ${agentId}`, async () => {
      const index = await this.pods();
      // Marked already when a stop is retried: it is still this agent's pod to remove.
      const pod = index.ofPool(manifestId).find((p) => claimOf(p) === agentId && !isTerminating(p));
      if (pod && !isStopping(pod))
        await this.patchPod(pod, { metadata: { annotations: { [DELETION_COST]: STOPPING_COST } } });
      // Fewer replicas: the ReplicaSet removes the marked pod. It is deleted here only when the ReplicaSet has not
      // done so soon (it ranks a pod that is not ready before the deletion cost, so it may pick another).
      const deployment = (pod && deploymentOf(pod)) ?? (version && deploymentName(manifestId, version));
      if (deployment) await this.members.remove(deployment, agentId);
      if (!pod) return;
      const name = nameOf(pod);
      const removed = () => {
        const now = index.get(name);
        return !now || isTerminating(now) ? true : undefined;
      };
      const picked =
        !!deployment &&
        (await index.until(name, `the ReplicaSet to remove pod ${name}`, removed, PICKED_WITHIN_MS).catch(() => false));
      if (!picked) await this.deletePod(name);
      const grace = (pod.spec?.terminationGracePeriodSeconds ?? 30) + 30;
      await index.until(name, `pod ${name} to terminate`, () => (index.get(name) ? undefined : true), grace * 1000);
    });
  }

  async restart(spec: DeploySpec): Promise<Deployment> {
    await this.classified(`restarting ${spec.agentId}`, async () => {
      const pod = this.claimedPod(await this.pods(), spec.manifest, spec.agentId);
      if (pod) await this.deletePod(nameOf(pod));
    });
    return this.deploy(spec);
  }

  /** The kubelet probes the agent's health endpoint; the watch tells whether the pod passed. */
  async check(deployment: Deployment, _probe: HealthProbe): Promise<CheckResult> {
    const pod = (await this.pods()).get(deployment.podId);
    const fail = (error: string): CheckResult => ({
      ok: false,
      error: `pod ${deployment.podId} ${error}`,
      runningTasks: 0,
    });
    if (!pod) return fail('is gone');
    if (isTerminating(pod)) return fail('is terminating');
    if (claimOf(pod) !== deployment.agentId) return fail(`was claimed by ${claimOf(pod) ?? 'nobody'}`);
    if (pod.status?.phase !== 'Running') return fail(`is ${pod.status?.phase ?? 'Unknown'}`);
    if (!isReady(pod)) return fail('is not ready (its readiness probe fails)');
    return { ok: true, runningTasks: 0 };
  }

  /** The pool's pods as this deployer's watch last saw them, terminating ones too. */
  async poolPods(manifestId: string): Promise<V1Pod[]> {
    return (await this.pods()).ofPool(manifestId);
  }

  async close(): Promise<void> {
    await (await this.index?.catch(() => undefined))?.close();
  }

  /** Puts the pool's token in the Secret its pods read it from, once per pool and process. */
  private poolToken(manifestId: string): Promise<void> {
    let written = this.tokens.get(manifestId);
    if (!written) {
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      const { codecKeys } = this.options;
      const data = {
        [manifestId]: b64(this.options.tokenFor(manifestId)),
        ...(codecKeys && { [CODEC_KEYS]: b64(codecKeys) }),
      };
      const name = AGENT_TOKENS_SECRET;
      const namespace = this.options.namespace;
      const patch = () =>
        this.api.run('PATCH secrets', () =>
          this.core.patchNamespacedSecret({ name, namespace, body: { data } }, mergePatch),
        );
      written = patch()
        .catch(async (error: unknown) => {
          if (!isNotFound(error)) throw error;
          try {
            await this.api.run('POST secrets', () =>
              this.core.createNamespacedSecret({ namespace, body: { metadata: { name }, data } }),
            );
          } catch (createError) {
            // Created meanwhile by another deploy: add this pool's key to it.
            if (!isConflict(createError)) throw createError;
            await patch();
          }
        })
        .then(() => undefined);
      this.tokens.set(manifestId, written);
      written.catch(() => this.tokens.delete(manifestId));
    }
    return written;
  }

  private pods(): Promise<PodIndex> {
    this.index ??= PodIndex.open(this.options.kubeConfig, this.options.namespace, () =>
      this.api.count('LIST pods'),
    ).catch((error: unknown) => {
      this.index = undefined;
      throw error;
    });
    return this.index;
  }

  private claimedPod(index: PodIndex, manifest: AgentManifest, agentId: string): V1Pod | undefined {
    return this.podsOf(index, manifest).find((p) => claimOf(p) === agentId && !isTerminating(p) && !isStopping(p));
  }

  /** The pods of the manifest's version: an instance only ever runs in its own version's pod. */
  private podsOf(index: PodIndex, { id, version }: AgentManifest): V1Pod[] {
    return index.ofPool(id).filter((p) => versionOf(p) === version);
  }

  /**
   * Queues for a free pod of the manifest's version; free pods are handed out
   * in order, each to one waiter. A retried deploy joins its agent's pending claim.
   */
  private claim(index: PodIndex, manifest: AgentManifest, agentId: string): Promise<V1Pod> {
    const pending = this.claiming.get(agentId);
    if (pending) return pending;
    const name = deploymentName(manifest.id, manifest.version);
    if (!this.subscribed.has(name)) {
      this.subscribed.add(name);
      index.subscribe(manifest.id, () => this.handOutSoon(index, manifest));
    }
    const handedOut = new Promise<V1Pod>((resolve, reject) => {
      this.queue(name).push({ agentId, resolve, reject });
      this.handOutSoon(index, manifest);
    });
    const claim = this.unlessPodsFail(name, agentId, handedOut);
    this.claiming.set(agentId, claim);
    void claim.then(
      () => this.claiming.delete(agentId),
      () => this.claiming.delete(agentId),
    );
    return claim;
  }

  /**
   * Waits for the pod, asking the Deployment every few seconds whether the
   * ReplicaSet fails to create pods (quota exceeded, admission refused): then
   * the claim fails with that reason instead of waiting for a pod that never comes.
   */
  private async unlessPodsFail(deployment: string, agentId: string, handedOut: Promise<V1Pod>): Promise<V1Pod> {
    for (;;) {
      const pod = await Promise.race([handedOut, sleep(5_000, undefined)]);
      if (pod) return pod;
      const failure = await this.members.replicaFailure(deployment);
      if (failure) {
        const queue = this.queue(deployment);
        const at = queue.findIndex((w) => w.agentId === agentId);
        if (at >= 0) queue.splice(at, 1);
        throw ApplicationFailure.create({
          type: 'KubernetesPodsRefused',
          message: `no pod can be created for ${agentId}: ${failure} (the ReplicaSet's pods are refused: check the namespace ResourceQuota, LimitRange and admission policies)`,
          nonRetryable: true,
        });
      }
    }
  }

  /** Who waits for a pod of a Deployment, first come first served. */
  private queue(deployment: string): Waiter[] {
    let waiters = this.waiting.get(deployment);
    if (!waiters) this.waiting.set(deployment, (waiters = []));
    return waiters;
  }

  /**
   * Hands out free pods once per turn of the event loop, however many pod
   * events and claims came in it: a scale to 1000 brings thousands of each,
   * and each hand-out looks at every pod of the pool.
   */
  private handOutSoon(index: PodIndex, manifest: AgentManifest): void {
    const name = deploymentName(manifest.id, manifest.version);
    if (this.handingOut.has(name)) return;
    this.handingOut.add(name);
    setImmediate(() => {
      this.handingOut.delete(name);
      this.handOut(index, manifest, name);
    });
  }

  private handOut(index: PodIndex, manifest: AgentManifest, name: string): void {
    const waiters = this.queue(name);
    if (!waiters.length) return;
    const members = this.members.known(name);
    // The members' pods first: in a scale they are nearly all of them, and that test is the cheapest.
    const free = index
      .ofPool(manifest.id)
      .filter(
        (p) =>
          !members.has(claimOf(p) ?? '') &&
          !this.reserved.has(nameOf(p)) &&
          !isTerminating(p) &&
          !isStopping(p) &&
          deploymentOf(p) === name,
      )
      // Ready pods first, then the oldest: the agent is up soonest.
      .sort((a, b) => Number(isReady(b)) - Number(isReady(a)) || createdAt(a) - createdAt(b));
    while (waiters.length && free.length) {
      const waiter = waiters.shift()!;
      const pod = free.shift()!;
      this.reserved.add(nameOf(pod));
      this.claimPod(pod, waiter.agentId).then(
        (claimed) => {
          // Stays reserved until the watch shows the claim (the pod is then a member's, not free).
          const shown = () => {
            const now = index.get(nameOf(pod));
            return !now || claimOf(now) === waiter.agentId ? true : undefined;
          };
          void index
            .until(nameOf(pod), 'the claim to show', shown, 30_000)
            .catch(() => undefined)
            .then(() => this.reserved.delete(nameOf(pod)));
          waiter.resolve(claimed);
        },
        (error: unknown) => {
          this.reserved.delete(nameOf(pod));
          if (isConflict(error) || isNotFound(error) || isPatchNotApplied(error))
            waiters.unshift(waiter); // claimed or gone meanwhile: try the next free pod
          else waiter.reject(error);
          this.handOutSoon(index, manifest);
        },
      );
    }
  }

  private patchPod(pod: V1Pod, body: object): Promise<V1Pod> {
    return this.api.run('PATCH pods', () =>
      this.core.patchNamespacedPod({ name: nameOf(pod), namespace: this.options.namespace, body }, mergePatch),
    );
  }

  /**
   * Labels the pod as the agent's if its labels are still what we saw: a JSON
   * patch `test` on the labels, not the resourceVersion, so the status updates
   * that follow a new pod do not turn every claim into a conflict.
   */
  private claimPod(pod: V1Pod, agentId: string): Promise<V1Pod> {
    const body = [
      { op: 'test', path: '/metadata/labels', value: pod.metadata?.labels ?? {} },
      { op: 'add', path: `/metadata/labels/${LABELS.agentId.replace('/', '~1')}`, value: agentId },
    ];
    return this.api.run('PATCH pods', () =>
      this.core.patchNamespacedPod({ name: nameOf(pod), namespace: this.options.namespace, body }, jsonPatch),
    );
  }

  private async deletePod(name: string): Promise<void> {
    await this.api
      .run('DELETE pods', () => this.core.deleteNamespacedPod({ name, namespace: this.options.namespace }))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }

  private async classified<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw error instanceof ApplicationFailure ? error : classifyKubernetesError(error, doing);
    }
  }
}

function toDeployment(agentId: string, pod: V1Pod): Deployment {
  return {
    agentId,
    podId: nameOf(pod),
    ip: pod.status?.podIP ?? '',
    port: AGENT_PORT,
    startedAt: new Date(pod.status?.startTime ?? Date.now()).toISOString(),
  };
}
