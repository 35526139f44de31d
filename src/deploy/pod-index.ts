import {
  CoreV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';
import { LABELS } from './agent-workload';

export const isTerminating = (pod: V1Pod) => !!pod.metadata?.deletionTimestamp;
export const isReady = (pod: V1Pod) =>
  pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
export const claimOf = (pod: V1Pod) => pod.metadata?.labels?.[LABELS.agentId];
export const versionOf = (pod: V1Pod) => pod.metadata?.labels?.[LABELS.version];
const manifestOf = (pod: V1Pod) => pod.metadata?.labels?.[LABELS.manifest] ?? '';
/**
 * The Deployment a pod belongs to: its ReplicaSet's name without the template
 * hash. Read from the pod because Deployments of earlier releases were named
 * `vapora-<manifest>`, without the version.
 */
export const deploymentOf = (pod: V1Pod) => {
  const replicaSet = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  return replicaSet && hash && replicaSet.endsWith(`-${hash}`) ? replicaSet.slice(0, -hash.length - 1) : undefined;
};

/**
 * Vapora's pods in one namespace, followed by a watch (list once, then
 * events), so deploys, claims and health checks read memory instead of
 * asking the API server. Listeners hear about changes to their pool's pods.
 */
export class PodIndex {
  private readonly informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  private readonly listeners = new Map<string, Set<() => void>>();
  /** Who waits on one pod: a scale to 1000 has 1000 deploys waiting, each on its own pod, and each pod event concerns one. */
  private readonly podListeners = new Map<string, Set<() => void>>();
  private stopped = false;

  private constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    onList: () => void,
  ) {
    const core = kc.makeApiClient(CoreV1Api);
    const selector = `${LABELS.managedBy}=vapora`;
    this.informer = makeInformer(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => (onList(), core.listNamespacedPod({ namespace, labelSelector: selector })),
      selector,
    );
    const changed = (pod: V1Pod) => {
      this.listeners.get(manifestOf(pod))?.forEach((notify) => notify());
      if (pod.metadata?.name) this.podListeners.get(pod.metadata.name)?.forEach((notify) => notify());
    };
    for (const verb of ['add', 'update', 'delete'] as const) this.informer.on(verb, changed);
    // A dropped watch (API server restart, timeout) is resumed; the informer relists what it missed.
    this.informer.on('error', () =>
      setTimeout(() => void (!this.stopped && this.informer.start().catch(() => undefined)), 1_000),
    );
  }

  /** Lists the namespace's pods and starts watching; rejects when the list is refused (forbidden, no such namespace). */
  static async open(kc: KubeConfig, namespace: string, onList: () => void): Promise<PodIndex> {
    const index = new PodIndex(kc, namespace, onList);
    await index.informer.start();
    return index;
  }

  get(name: string): V1Pod | undefined {
    return this.informer.get(name, this.namespace);
  }

  ofPool(manifestId: string): V1Pod[] {
    return this.informer.list(this.namespace).filter((p) => manifestOf(p) === manifestId);
  }

  /** Calls `notify` on every change to a pod of the pool; returns the unsubscribe. */
  subscribe(manifestId: string, notify: () => void): () => void {
    return listen(this.listeners, manifestId, notify);
  }

  /** Resolves with `check`'s first defined answer, re-asked on each change to pod `podName` (its deletion included). */
  until<T>(podName: string, what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (finish: () => void) => {
        clearTimeout(timer);
        unsubscribe();
        finish();
      };
      const ask = () => {
        const answer = check();
        if (answer !== undefined) done(() => resolve(answer));
      };
      const unsubscribe = listen(this.podListeners, podName, ask);
      const timer = setTimeout(
        () => done(() => reject(new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`))),
        timeoutMs,
      );
      ask();
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
  }
}

/** Adds `notify` to the listeners of `key`; the unsubscribe drops the key's set once it is empty. */
function listen(listeners: Map<string, Set<() => void>>, key: string, notify: () => void): () => void {
  const set = listeners.get(key) ?? new Set();
  listeners.set(key, set.add(notify));
  return () => {
    set.delete(notify);
    if (!set.size && listeners.get(key) === set) listeners.delete(key);
  };
}
