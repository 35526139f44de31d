import type { AppsV1Api, V1Deployment } from '@kubernetes/client-node';
import type { AgentManifest } from '../domain';
import { MEMBERS, agentDeployment, deploymentName, type AgentEnv } from './agent-workload';
import type { ApiCalls } from './api-calls';
import { isConflict, isNotFound, isPatchNotApplied } from './kubernetes-errors';
import { jsonPatch } from './patch-strategies';

type Change = 'add' | 'remove';
interface Tracked {
  manifest?: AgentManifest;
  pending: Map<string, Change>;
  waiters: Map<string, Array<{ resolve: () => void; reject: (e: unknown) => void }>>;
  flushing: boolean;
  known?: Set<string>;
  /** The Deployment as this process last wrote it: the next write starts from it instead of reading it again. */
  written?: V1Deployment;
}

const membersOf = (d: V1Deployment) => new Set((d.metadata?.annotations?.[MEMBERS] ?? '').split(',').filter(Boolean));

/**
 * Which agents a Deployment (one pool at one version) runs a pod for, kept on the Deployment
 * itself (an annotation, with replicas equal to its size) so every control
 * plane reads the same truth. Changes that arrive together are written in one
 * update: scaling 1 → 1000 is a handful of writes, not a thousand conflicting ones.
 */
export class DeploymentMembers {
  private readonly tracked = new Map<string, Tracked>();
  private readonly failureReads = new Map<string, { at: number; answer: Promise<string | undefined> }>();

  constructor(
    private readonly apps: AppsV1Api,
    private readonly namespace: string,
    private readonly env: AgentEnv,
    private readonly api: ApiCalls,
  ) {}

  /** The members of Deployment `name` last written or read, if any. */
  known(name: string): Set<string> {
    return this.tracked.get(name)?.known ?? new Set();
  }

  /** Makes `agentId` a member of its version's Deployment, creating it on first use. */
  add(manifest: AgentManifest, agentId: string): Promise<void> {
    const name = deploymentName(manifest.id, manifest.version);
    const entry = this.track(name);
    entry.manifest = manifest;
    return this.change(name, entry, agentId, 'add');
  }

  /** Takes `agentId` out of Deployment `name`; the last member out deletes the Deployment. */
  remove(name: string, agentId: string): Promise<void> {
    return this.change(name, this.track(name), agentId, 'remove');
  }

  /**
   * Why the Deployment's ReplicaSet cannot create pods, as the Deployment reports
   * it, if it cannot. One read per Deployment every few seconds, however many agents wait.
   */
  replicaFailure(name: string): Promise<string | undefined> {
    const recent = this.failureReads.get(name);
    if (recent && Date.now() - recent.at < 4_000) return recent.answer;
    const answer = this.read(name)
      .then((d) => d.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True')?.message)
      .catch(() => undefined);
    this.failureReads.set(name, { at: Date.now(), answer });
    return answer;
  }

  private read(name: string): Promise<V1Deployment> {
    return this.api.run('GET deployments', () =>
      this.apps.readNamespacedDeployment({ name, namespace: this.namespace }),
    );
  }

  private track(name: string): Tracked {
    let entry = this.tracked.get(name);
    if (!entry) this.tracked.set(name, (entry = { pending: new Map(), waiters: new Map(), flushing: false }));
    return entry;
  }

  private change(name: string, entry: Tracked, agentId: string, change: Change): Promise<void> {
    entry.pending.set(agentId, change);
    const done = new Promise<void>((resolve, reject) =>
      entry.waiters.set(agentId, [...(entry.waiters.get(agentId) ?? []), { resolve, reject }]),
    );
    if (!entry.flushing) void this.flush(name, entry);
    return done;
  }

  private async flush(name: string, entry: Tracked): Promise<void> {
    entry.flushing = true;
    // Let the changes of one burst (a scale to N starts N deploys at once) gather first.
    await new Promise((r) => setImmediate(r));
    while (entry.pending.size) {
      const batch = new Map(entry.pending);
      entry.pending.clear();
      const waiters = [...batch.keys()].flatMap((id) => {
        const w = entry.waiters.get(id) ?? [];
        entry.waiters.delete(id);
        return w;
      });
      try {
        entry.known = await this.write(name, entry, batch);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    entry.flushing = false;
  }

  /**
   * Change the members last seen (as this process wrote them, else as read)
   * and write them only if they are still those; another writer's change
   * reads again. A Deployment left without members is deleted, so the versions
   * an upgrade left behind do not linger.
   */
  private async write(name: string, entry: Tracked, batch: Map<string, Change>): Promise<Set<string>> {
    const { manifest } = entry;
    for (;;) {
      let current: V1Deployment;
      try {
        current = entry.written ?? (await this.read(name));
        entry.written = undefined;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const members = [...batch]
          .filter(([, c]) => c === 'add')
          .map(([id]) => id)
          .sort();
        if (!members.length || !manifest) return new Set();
        try {
          entry.written = await this.api.run('POST deployments', () =>
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
      const before = [...members].sort().join(',');
      for (const [id, change] of batch) {
        if (change === 'add') members.add(id);
        else members.delete(id);
      }
      const sorted = [...members].sort();
      try {
        if (!sorted.length) {
          // Only the Deployment that was read: one another control plane just joined is kept.
          await this.api.run('DELETE deployments', () =>
            this.apps.deleteNamespacedDeployment({
              name,
              namespace: this.namespace,
              body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } },
            }),
          );
          return members;
        }
        if (sorted.join(',') === before && current.spec?.replicas === sorted.length) {
          entry.written = current;
          return members;
        }
        // A patch that holds only while the members are still what we saw (status updates do not
        // touch them, where the resourceVersion changes with each), so the next write need not read first.
        const path = `/metadata/annotations/${MEMBERS.replace('/', '~1')}`;
        const seen = current.metadata?.annotations?.[MEMBERS];
        const body = [
          seen === undefined
            ? { op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion }
            : { op: 'test', path, value: seen },
          { op: 'add', path, value: sorted.join(',') },
          { op: 'replace', path: '/spec/replicas', value: sorted.length },
        ];
        entry.written = await this.api.run('PATCH deployments', () =>
          this.apps.patchNamespacedDeployment({ name, namespace: this.namespace, body }, jsonPatch),
        );
        return members;
      } catch (error) {
        // Changed or deleted by another control plane meanwhile: read again.
        if (!isConflict(error) && !isNotFound(error) && !isPatchNotApplied(error)) throw error;
      }
    }
  }
}
