import type { AppsV1Api, V1Deployment } from '@kubernetes/client-node';
import type { AgentManifest } from '../domain';
import { ApplicationFailure } from '@temporalio/common';
import { LABELS, MEMBERS, agentDeployment, deploymentName, type AgentEnv } from './agent-workload';
import type { ApiCalls } from './api-calls';
import { isConflict, isNotFound } from './kubernetes-errors';

type Change = 'add' | 'remove';
interface Pool {
  manifest?: AgentManifest;
  pending: Map<string, Change>;
  waiters: Map<string, Array<{ resolve: () => void; reject: (e: unknown) => void }>>;
  flushing: boolean;
  known?: Set<string>;
}

const membersOf = (d: V1Deployment) => new Set((d.metadata?.annotations?.[MEMBERS] ?? '').split(',').filter(Boolean));

/**
 * Which agents a pool's Deployment runs a pod for, kept on the Deployment
 * itself (an annotation, with replicas equal to its size) so every control
 * plane reads the same truth. Changes that arrive together are written in one
 * update: scaling 1 → 1000 is a handful of writes, not a thousand conflicting ones.
 */
export class DeploymentMembers {
  private readonly pools = new Map<string, Pool>();
  private readonly failureReads = new Map<string, { at: number; answer: Promise<string | undefined> }>();

  constructor(
    private readonly apps: AppsV1Api,
    private readonly namespace: string,
    private readonly env: AgentEnv,
    private readonly api: ApiCalls,
  ) {}

  /** The members last written or read, if any. */
  known(manifestId: string): Set<string> {
    return this.pools.get(manifestId)?.known ?? new Set();
  }

  /** Makes `agentId` a member, creating the Deployment on first use. */
  add(manifest: AgentManifest, agentId: string): Promise<void> {
    const pool = this.pool(manifest.id);
    pool.manifest = manifest;
    return this.change(manifest.id, pool, agentId, 'add');
  }

  remove(manifestId: string, agentId: string): Promise<void> {
    return this.change(manifestId, this.pool(manifestId), agentId, 'remove');
  }

  /**
   * Why the pool's ReplicaSet cannot create pods, as the Deployment reports
   * it, if it cannot. One read per pool every few seconds, however many agents wait.
   */
  replicaFailure(manifestId: string): Promise<string | undefined> {
    const recent = this.failureReads.get(manifestId);
    if (recent && Date.now() - recent.at < 4_000) return recent.answer;
    const answer = this.read(manifestId)
      .then((d) => d.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True')?.message)
      .catch(() => undefined);
    this.failureReads.set(manifestId, { at: Date.now(), answer });
    return answer;
  }

  private read(manifestId: string): Promise<V1Deployment> {
    return this.api.run('GET deployments', () =>
      this.apps.readNamespacedDeployment({ name: deploymentName(manifestId), namespace: this.namespace }),
    );
  }

  private pool(manifestId: string): Pool {
    let pool = this.pools.get(manifestId);
    if (!pool) this.pools.set(manifestId, (pool = { pending: new Map(), waiters: new Map(), flushing: false }));
    return pool;
  }

  private change(manifestId: string, pool: Pool, agentId: string, change: Change): Promise<void> {
    pool.pending.set(agentId, change);
    const done = new Promise<void>((resolve, reject) =>
      pool.waiters.set(agentId, [...(pool.waiters.get(agentId) ?? []), { resolve, reject }]),
    );
    if (!pool.flushing) void this.flush(manifestId, pool);
    return done;
  }

  private async flush(manifestId: string, pool: Pool): Promise<void> {
    pool.flushing = true;
    // Let the changes of one burst (a scale to N starts N deploys at once) gather first.
    await new Promise((r) => setImmediate(r));
    while (pool.pending.size) {
      const batch = new Map(pool.pending);
      pool.pending.clear();
      const waiters = [...batch.keys()].flatMap((id) => {
        const w = pool.waiters.get(id) ?? [];
        pool.waiters.delete(id);
        return w;
      });
      try {
        pool.known = await this.write(manifestId, pool.manifest, batch);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    pool.flushing = false;
  }

  /** Read, change, write with the read's resourceVersion; a conflict (another writer) reads again. */
  private async write(
    manifestId: string,
    manifest: AgentManifest | undefined,
    batch: Map<string, Change>,
  ): Promise<Set<string>> {
    const name = deploymentName(manifestId);
    for (;;) {
      let current: V1Deployment;
      try {
        current = await this.read(manifestId);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const members = [...batch]
          .filter(([, c]) => c === 'add')
          .map(([id]) => id)
          .sort();
        if (!members.length || !manifest) return new Set();
        try {
          await this.api.run('POST deployments', () =>
            this.apps.createNamespacedDeployment({
              namespace: this.namespace,
              body: agentDeployment(manifest, this.namespace, this.env, members),
            }),
          );
          return new Set(members);
        } catch (createError) {
          if (isConflict(createError)) continue; // created meanwhile by another control plane
          throw createError;
        }
      }
      const members = membersOf(current);
      const running = current.spec?.template?.metadata?.labels?.[LABELS.version];
      const newVersion = manifest && running !== manifest.version && [...batch.values()].includes('add');
      if (newVersion) {
        // One template per Deployment: a pool with no pods takes the new one; a running pool cannot mix versions.
        if (members.size === 0)
          current.spec!.template = agentDeployment(manifest, this.namespace, this.env, []).spec!.template;
        else
          throw ApplicationFailure.create({
            type: 'KubernetesVersionMix',
            nonRetryable: true,
            message: `${name} runs ${manifest.id} ${running}; an instance of ${manifest.version} cannot join it (rolling upgrades with the Kubernetes deployer are not supported yet: scale the pool to 0, then up)`,
          });
      }
      const before = [...members].sort().join(',');
      for (const [id, change] of batch) {
        if (change === 'add') members.add(id);
        else members.delete(id);
      }
      const sorted = [...members].sort();
      if (!newVersion && sorted.join(',') === before && current.spec?.replicas === sorted.length) return members;
      current.metadata!.annotations = { ...current.metadata!.annotations, [MEMBERS]: sorted.join(',') };
      current.spec!.replicas = sorted.length;
      try {
        await this.api.run('PUT deployments', () =>
          this.apps.replaceNamespacedDeployment({ name, namespace: this.namespace, body: current }),
        );
        return members;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
  }
}
