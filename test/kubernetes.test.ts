import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import type { ApplicationFailure } from '@temporalio/common';
import { AgentManifest, parse } from '../src/domain';
import { installPool, upgradePool } from '../src/client/pool-client';
import { poolWorkflowId } from '../src/contracts/workflow-ids';
import { AGENT_TOKENS_SECRET, LABELS, MEMBERS, deploymentName, poolSelector } from '../src/deploy/agent-workload';
import { ApiAuth } from '../src/control-plane/api-auth';
import { POOL_STARTS_AT_ONCE, poolStatusQuery, scalePoolUpdate, uninstallPoolUpdate } from '../src/contracts/fleet';
import { failureMessage } from '../src/temporal/failure-message';
import {
  classifyKubernetesError,
  isNamespaceMissing,
  isNotFound,
  isPatchNotApplied,
} from '../src/deploy/kubernetes-errors';
import { deploymentOf } from '../src/deploy/pod-index';
import { eventually, fastManifest } from './support/fleet';
import { cachedToolchain, kubernetesSkipReason, localCluster } from './support/kubernetes';
import { clientFor, startLocalKubernetes } from '../src/stack/local-kubernetes';
import { vapora } from './support/cli';
import { planeProcess } from './support/plane-process';
import { tempDir, unique } from './support/servers';

const NAMESPACE = 'vapora';
const skip = kubernetesSkipReason();

describe('vapora kube up --dir', () => {
  it('refuses a directory it did not make, naming it, and deletes nothing', async () => {
    const dir = tempDir('kube-user');
    writeFileSync(join(dir, 'notes.md'), 'mine');
    const result = await vapora(['kube', 'up', '--dir', dir]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`refusing to keep the local cluster in ${dir}: it is not empty \\(notes\\.md\\) and was not made by`),
    );
    assert.deepEqual(readdirSync(dir), ['notes.md']);
    assert.equal(readFileSync(join(dir, 'notes.md'), 'utf8'), 'mine');
  });

  it('starts clean on its own directory, clearing only what it wrote there', { skip }, async () => {
    const toolchain = cachedToolchain();
    if ('missing' in toolchain) throw new Error(`the Kubernetes toolchain is missing ${toolchain.missing.join(', ')}`);
    const dir = join(tempDir('kube-own'), 'cluster');
    const first = await startLocalKubernetes(toolchain, dir);
    try {
      await clientFor(first.kubeconfig)
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: 'left-over' } } });
    } finally {
      await first.stop();
    }
    writeFileSync(join(dir, 'notes.md'), 'mine');
    const second = await startLocalKubernetes(toolchain, dir);
    try {
      const namespaces = (await clientFor(second.kubeconfig).makeApiClient(CoreV1Api).listNamespace()).items.map(
        (n) => n.metadata?.name,
      );
      assert.ok(namespaces.includes('default'));
      assert.ok(!namespaces.includes('left-over'), "the first cluster's etcd data was cleared");
    } finally {
      await second.stop();
    }
    assert.equal(readFileSync(join(dir, 'notes.md'), 'utf8'), 'mine', 'what it did not write stays');
  });
});

describe('Kubernetes deployer (real API server, kwok nodes)', { skip }, () => {
  let cluster: Awaited<ReturnType<typeof localCluster>>;
  let plane: Awaited<ReturnType<typeof planeProcess>>;
  let apps: AppsV1Api;

  before(async () => {
    cluster = await localCluster();
    apps = cluster.admin.makeApiClient(AppsV1Api);
    // The tests apply the shipped manifests, and the control plane acts with nothing more than rbac.yaml grants.
    await cluster.apply('deploy/kubernetes/rbac.yaml');
    await cluster.apply('deploy/kubernetes/control-plane.yaml');
    // Accepted by the API server as written (kwok has no CNI to enforce it).
    await cluster.apply('deploy/kubernetes/network-policy.yaml');
    const kubeconfig = await cluster.kubeconfigFor(NAMESPACE, 'vapora-control-plane');
    plane = await planeProcess('kube', {
      VAPORA_DEPLOYER: 'kubernetes',
      VAPORA_K8S_NAMESPACE: NAMESPACE,
      KUBECONFIG: kubeconfig,
    });
    plane.start();
  });

  after(async () => {
    await plane?.close();
    await cluster?.stop();
  });

  const newPool = () => {
    const manifestId = unique('k').replace(/-/g, '').slice(0, 16);
    return { manifestId, manifest: parse(AgentManifest, fastManifest(manifestId), 'manifest') };
  };
  const podsOf = async (manifestId: string) =>
    (
      await cluster.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: poolSelector(manifestId) })
    ).items.filter((p) => !p.metadata?.deletionTimestamp);
  const claims = (pods: V1Pod[]) => pods.map((p) => p.metadata?.labels?.[LABELS.agentId] ?? '(unclaimed)').sort();
  const running = (pods: V1Pod[]) => pods.every((p) => p.status?.phase === 'Running');
  const uninstall = (manifestId: string) =>
    plane.client.workflow
      .getHandle(poolWorkflowId(manifestId))
      .executeUpdate(uninstallPoolUpdate, { args: [{ force: true }] });

  it('applies the shipped RBAC and control-plane Deployment; the sample worker pod runs', async () => {
    await eventually('the control-plane pod Running', async () => {
      const pods = (
        await cluster.core.listNamespacedPod({
          namespace: NAMESPACE,
          labelSelector: 'app.kubernetes.io/name=vapora-control-plane',
        })
      ).items;
      return pods.length === 1 && running(pods);
    });
  });

  it('installs an agent as a Deployment whose pod runs, and the agent becomes Active', async () => {
    const { manifestId, manifest } = newPool();
    const agentId = `${manifestId}-001`;
    const status = await installPool(plane.client, plane.taskQueue, { manifestId, replicas: 1, manifest });
    assert.deepEqual(status.ready, [agentId]);

    const d = await apps.readNamespacedDeployment({ name: deploymentName(manifestId, '0.1.0'), namespace: NAMESPACE });
    assert.equal(d.spec?.replicas, 1);
    assert.equal(d.metadata?.annotations?.[MEMBERS], agentId);
    assert.equal(d.metadata?.labels?.[LABELS.role], 'developer');
    assert.equal(d.metadata?.labels?.[LABELS.manifest], manifestId);
    assert.equal(d.metadata?.labels?.[LABELS.version], '0.1.0');
    const container = d.spec?.template.spec?.containers[0];
    assert.equal(container?.image, `vapora/agents:${manifestId}-0.1.0`);
    // The pool's API token: in the Secret its pods read, never in the Deployment itself.
    const tokenRef = container?.env?.find((e) => e.name === 'VAPORA_AGENT_TOKEN')?.valueFrom?.secretKeyRef;
    assert.deepEqual([tokenRef?.name, tokenRef?.key], [AGENT_TOKENS_SECRET, manifestId]);
    const secret = await cluster.core.readNamespacedSecret({ name: AGENT_TOKENS_SECRET, namespace: NAMESPACE });
    const token = Buffer.from(secret.data?.[manifestId] ?? '', 'base64').toString();
    assert.deepEqual(ApiAuth.of(plane.stateDir).identify(`Bearer ${token}`), { kind: 'pool', manifestId });
    assert.deepEqual(container?.resources?.requests, {
      cpu: manifest.resources.cpu,
      memory: manifest.resources.memory,
    });
    assert.equal(container?.readinessProbe?.httpGet?.path, '/health');
    assert.equal(container?.livenessProbe?.httpGet?.path, '/health?live');
    assert.equal(container?.livenessProbe?.failureThreshold, manifest.health_check.consecutive_failures_threshold);
    assert.equal(container?.readinessProbe?.periodSeconds, manifest.health_check.interval_secs);
    const spec = JSON.parse(container?.env?.find((e) => e.name === 'VAPORA_AGENT_SPEC')?.value ?? '{}') as Record<
      string,
      unknown
    >;
    assert.equal(spec.manifest_id, manifestId);
    assert.equal(spec.agent_id, undefined, 'the agent id comes from the claim, not the template');
    assert.ok(
      container?.env?.every((e) => !/KEY|PASS|TOKEN/.test(e.name) || (!e.value && e.valueFrom?.secretKeyRef)),
      'no secret in the Deployment: only references to Secrets',
    );

    const pods = await podsOf(manifestId);
    assert.equal(pods.length, 1);
    assert.ok(running(pods));
    assert.deepEqual(claims(pods), [agentId]);
    const view = await plane.registry.agent(agentId);
    assert.equal(view?.status, 'Active');
    assert.equal(view?.instance?.pod_id, pods[0]!.metadata?.name);
    assert.equal(view?.instance?.ip, pods[0]!.status?.podIP);
    await uninstall(manifestId);
    await eventually('the pods gone after uninstall', async () => (await podsOf(manifestId)).length === 0);
  });

  it('scales 1 → 6 → 1: replicas, pods, claims and registry follow', async () => {
    const { manifestId, manifest } = newPool();
    await installPool(plane.client, plane.taskQueue, { manifestId, replicas: 1, manifest });
    const pool = plane.client.workflow.getHandle(poolWorkflowId(manifestId));
    const up = await pool.executeUpdate(scalePoolUpdate, { args: [6] });
    const ids = [1, 2, 3, 4, 5, 6].map((n) => `${manifestId}-00${n}`);
    assert.deepEqual(up.ready, ids);
    assert.equal(
      (await apps.readNamespacedDeployment({ name: deploymentName(manifestId, '0.1.0'), namespace: NAMESPACE })).spec
        ?.replicas,
      6,
    );
    const six = await podsOf(manifestId);
    assert.deepEqual(claims(six), ids, 'each agent has its own pod');
    assert.ok(running(six));
    const views = await Promise.all(ids.map((id) => plane.registry.agent(id)));
    assert.ok(views.every((v) => v?.status === 'Active'));
    assert.equal(new Set(views.map((v) => v?.instance?.pod_id)).size, 6);

    const down = await pool.executeUpdate(scalePoolUpdate, { args: [1] });
    assert.deepEqual(down.ready, [ids[0]]);
    assert.equal(
      (await apps.readNamespacedDeployment({ name: deploymentName(manifestId, '0.1.0'), namespace: NAMESPACE })).spec
        ?.replicas,
      1,
    );
    await eventually(
      "one pod left, the first agent's",
      async () => JSON.stringify(claims(await podsOf(manifestId))) === JSON.stringify([ids[0]]),
    );
    assert.equal(await plane.registry.agent(ids[5]!), undefined);
    await uninstall(manifestId);
  });

  it(`starts a large scale's instances at most ${POOL_STARTS_AT_ONCE} at a time, and all come up`, async () => {
    const { manifestId, manifest } = newPool();
    await installPool(plane.client, plane.taskQueue, { manifestId, replicas: 1, manifest });
    const pool = plane.client.workflow.getHandle(poolWorkflowId(manifestId));
    const size = POOL_STARTS_AT_ONCE + 15;
    const up = await pool.executeUpdate(scalePoolUpdate, { args: [size] });
    assert.equal(up.ready.length, size);
    // Child starts the pool had asked for and the server had not yet made, at their most.
    let waiting = 0;
    let most = 0;
    for (const event of (await pool.fetchHistory()).events ?? []) {
      if (event.startChildWorkflowExecutionInitiatedEventAttributes) most = Math.max(most, ++waiting);
      if (event.childWorkflowExecutionStartedEventAttributes || event.startChildWorkflowExecutionFailedEventAttributes)
        waiting--;
    }
    assert.equal(most, POOL_STARTS_AT_ONCE);
    const views = await Promise.all(up.ready.map((id) => plane.registry.agent(id)));
    assert.ok(views.every((v) => v?.status === 'Active'));
    assert.equal((await podsOf(manifestId)).length, size);
    await uninstall(manifestId);
    await eventually('the pods gone after uninstall', async () => (await podsOf(manifestId)).length === 0);
  });

  it('upgrades a running pool one pod at a time, each version in its own Deployment; a version the namespace refuses rolls back', async () => {
    const { manifestId, manifest } = newPool();
    await installPool(plane.client, plane.taskQueue, { manifestId, replicas: 2, manifest });
    const pool = plane.client.workflow.getHandle(poolWorkflowId(manifestId));
    const deployment = (version: string) =>
      apps
        .readNamespacedDeployment({ name: deploymentName(manifestId, version), namespace: NAMESPACE })
        .catch((error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw error;
        });
    const versionsOf = (pods: V1Pod[]) => pods.map((p) => p.metadata?.labels?.[LABELS.version]).sort();

    // 0.2.0 asks for more memory than the namespace's LimitRange allows: its pods are refused, so it rolls back.
    await cluster.core.createNamespacedLimitRange({
      namespace: NAMESPACE,
      body: { metadata: { name: 'agent-memory' }, spec: { limits: [{ type: 'Container', max: { memory: '32Gi' } }] } },
    });
    try {
      const greedy = { ...manifest, version: '0.2.0', resources: { ...manifest.resources, memory: '64Gi' } };
      await assert.rejects(
        upgradePool(plane.client, manifestId, { manifest: greedy }, () => undefined),
        new RegExp(`rolled back to 0\\.1\\.0: ${manifestId}-00\\d \\(0\\.2\\.0\\) failed to deploy: .*maximum memory`),
      );
    } finally {
      await cluster.core.deleteNamespacedLimitRange({ name: 'agent-memory', namespace: NAMESPACE });
    }
    assert.deepEqual(Object.values((await pool.query(poolStatusQuery)).versions ?? {}), ['0.1.0', '0.1.0']);
    await eventually('the refused version’s Deployment deleted', async () => !(await deployment('0.2.0')));
    assert.deepEqual(versionsOf(await podsOf(manifestId)), ['0.1.0', '0.1.0']);

    // Both versions run side by side while instances move over, one at a time.
    const seen = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const pods = (await podsOf(manifestId)).filter((p) => p.status?.phase === 'Running');
        seen.add(versionsOf(pods).join(' '));
        await sleep(100);
      }
    })();
    const next = { ...manifest, version: '0.3.0', docker_image: `vapora/agents:${manifestId}-0.3.0` };
    const result = await upgradePool(plane.client, manifestId, { manifest: next }, () => undefined).finally(
      () => (watching = false),
    );
    await watch;
    assert.equal(result.replaced, 2);
    assert.ok(
      [...seen].some((versions) => versions.includes('0.1.0') && versions.includes('0.3.0')),
      `old and new pods ran together (seen: ${[...seen].join(' | ')})`,
    );
    const d = await deployment('0.3.0');
    assert.equal(d?.spec?.replicas, 2);
    assert.equal(d?.spec?.template.spec?.containers[0]?.image, next.docker_image);
    await eventually('the old version’s Deployment deleted', async () => !(await deployment('0.1.0')));
    const pods = await eventually('two pods, both 0.3.0', async () => {
      const p = await podsOf(manifestId);
      return JSON.stringify(versionsOf(p)) === '["0.3.0","0.3.0"]' && p;
    });
    const agents = (await pool.query(poolStatusQuery)).agents;
    assert.deepEqual(claims(pods), [...agents].sort());
    for (const id of agents) assert.equal((await plane.registry.agent(id))?.version, '0.3.0');
    await uninstall(manifestId);
    await eventually('no Deployment left after uninstall', async () => !(await deployment('0.3.0')));
  });

  it('finds the Deployment of a pod from its ReplicaSet, whatever the Deployment is named', () => {
    const pod = (replicaSet: string, hash: string): V1Pod => ({
      metadata: {
        labels: { 'pod-template-hash': hash },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: 'u' }],
      },
    });
    assert.equal(deploymentOf(pod('vapora-dev-7d9f8c', '7d9f8c')), 'vapora-dev', 'named by an earlier release');
    assert.equal(deploymentOf(pod('vapora-dev-v0-2-0-5b6c', '5b6c')), 'vapora-dev-v0-2-0');
    assert.equal(deploymentOf({ metadata: {} }), undefined);
  });

  it('replaces a deleted pod: the agent claims the replacement and the registry follows', async () => {
    const { manifestId, manifest } = newPool();
    const agentId = `${manifestId}-001`;
    await installPool(plane.client, plane.taskQueue, { manifestId, replicas: 1, manifest });
    const before = (await plane.registry.agent(agentId))!.instance!;
    await cluster.core.deleteNamespacedPod({ name: before.pod_id, namespace: NAMESPACE });
    const after = await eventually('the agent Active on a new pod', async () => {
      const view = await plane.registry.agent(agentId);
      return view?.status === 'Active' && view.instance && view.instance.pod_id !== before.pod_id && view.instance;
    });
    assert.ok(after.restart_count >= 1);
    const pods = await podsOf(manifestId);
    assert.deepEqual(claims(pods), [agentId]);
    assert.equal(pods[0]!.metadata?.name, after.pod_id);
    await uninstall(manifestId);
  });

  it('refuses a namespace the account may not use, with a clear reason, and creates nothing', async () => {
    await cluster.core.createNamespace({ body: { metadata: { name: 'elsewhere' } } });
    const other = await planeProcess('kube-forbidden', {
      VAPORA_DEPLOYER: 'kubernetes',
      VAPORA_K8S_NAMESPACE: 'elsewhere',
      KUBECONFIG: await cluster.kubeconfigFor(NAMESPACE, 'vapora-control-plane'),
    });
    other.start();
    const { manifestId, manifest } = newPool();
    try {
      await assert.rejects(
        installPool(other.client, other.taskQueue, { manifestId, replicas: 1, manifest }),
        (error: Error) => {
          assert.match(error.message, /forbidden/i);
          assert.match(error.message, /elsewhere/);
          assert.match(error.message, /rbac\.yaml|VAPORA_K8S_NAMESPACE/);
          return true;
        },
      );
      assert.equal((await apps.listNamespacedDeployment({ namespace: 'elsewhere' })).items.length, 0);
      assert.equal(await other.registry.agent(`${manifestId}-001`), undefined);

      // `vapora doctor` says the same before anything is tried, and is content with the allowed namespace.
      const deployerCheck = async (env: NodeJS.ProcessEnv) => {
        const { stdout } = await vapora(['doctor', '--json'], env);
        return (JSON.parse(stdout) as { checks: { check: string; status: string; detail: string }[] }).checks.find(
          (c) => c.check === 'deployer',
        )!;
      };
      const refused = await deployerCheck(other.env);
      assert.equal(refused.status, 'failed');
      assert.match(refused.detail, /forbidden/i);
      assert.deepEqual((await deployerCheck(plane.env)).status, 'ok');
    } finally {
      await other.client.workflow
        .getHandle(poolWorkflowId(manifestId))
        .terminate()
        .catch(() => undefined);
      await other.close();
    }
  });

  it('tells a patch that did not apply, an invalid object and a missing namespace apart by the Status alone', async () => {
    const name = unique('probe');
    await cluster.core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: { metadata: { name, labels: { a: 'b' } } },
    });
    const patch = (labels: object, value: string) =>
      cluster.core.patchNamespacedConfigMap(
        {
          name,
          namespace: NAMESPACE,
          body: [
            { op: 'test', path: '/metadata/labels', value: labels },
            { op: 'add', path: '/metadata/labels/x', value },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
    const stale = await patch({ a: 'changed' }, 'y').catch((e: unknown) => e);
    assert.ok(isPatchNotApplied(stale), 'a failed test operation');
    const invalid = await patch({ a: 'b' }, 'not a label').catch((e: unknown) => e);
    assert.ok(!isPatchNotApplied(invalid) && (invalid as { code: number }).code === 422, 'an invalid label value');
    const missing = await cluster.core
      .createNamespacedConfigMap({ namespace: 'no-such-namespace', body: { metadata: { name } } })
      .catch((e: unknown) => e);
    assert.ok(isNamespaceMissing(missing), 'a namespace that does not exist');
    assert.ok(
      !isNamespaceMissing(stale) &&
        !isNamespaceMissing(
          await cluster.core.readNamespacedConfigMap({ name: 'none', namespace: NAMESPACE }).catch((e: unknown) => e),
        ),
    );
    assert.equal(
      (classifyKubernetesError(missing, 'creating') as ApplicationFailure).type,
      'KubernetesNamespaceMissing',
    );
    await cluster.core.deleteNamespacedConfigMap({ name, namespace: NAMESPACE });
  });

  it('converges when the control-plane worker is killed in the middle of a scale-up', async () => {
    const { manifestId, manifest } = newPool();
    await installPool(plane.client, plane.taskQueue, { manifestId, replicas: 1, manifest });
    const pool = plane.client.workflow.getHandle(poolWorkflowId(manifestId));
    const ids = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${manifestId}-00${n}`);
    void pool.executeUpdate(scalePoolUpdate, { args: [8] }).catch(() => undefined);
    await eventually(
      'the scale-up under way',
      async () =>
        ((await apps.readNamespacedDeployment({ name: deploymentName(manifestId, '0.1.0'), namespace: NAMESPACE })).spec
          ?.replicas ?? 0) > 1,
      30_000,
      20,
    );
    await plane.kill('SIGKILL');
    plane.start();

    await eventually(
      '8 agents Active on 8 distinct pods',
      async () => {
        const views = await Promise.all(ids.map((id) => plane.registry.agent(id)));
        return views.every((v) => v?.status === 'Active') && new Set(views.map((v) => v?.instance?.pod_id)).size === 8;
      },
      90_000,
    ).catch(async (error: Error) => {
      // Say where it stands: which agents, which pods, claimed by whom.
      const views = await Promise.all(ids.map((id) => plane.registry.agent(id)));
      const agents = views.map(
        (v, i) => `${ids[i]}: ${v ? JSON.stringify(v.status) : 'absent'} on ${v?.instance?.pod_id ?? '-'}`,
      );
      const pods = (await podsOf(manifestId)).map(
        (p) =>
          `${p.metadata?.name}: ${p.status?.phase}, claimed by ${p.metadata?.labels?.[LABELS.agentId] ?? 'nobody'}`,
      );
      throw new Error(`${error.message}\nagents:\n  ${agents.join('\n  ')}\npods:\n  ${pods.join('\n  ')}`);
    });
    const pods = await eventually(
      'exactly one claimed pod per agent, none spare',
      async () => {
        const p = await podsOf(manifestId);
        return JSON.stringify(claims(p)) === JSON.stringify(ids) && p;
      },
      30_000,
    );
    assert.ok(running(pods));
    assert.equal(
      (await apps.readNamespacedDeployment({ name: deploymentName(manifestId, '0.1.0'), namespace: NAMESPACE })).spec
        ?.replicas,
      8,
    );
    await uninstall(manifestId);
  });

  it('fails a scale the namespace quota cannot hold, naming the quota, and stays at the size it can run', async () => {
    const { manifestId, manifest } = newPool();
    await installPool(plane.client, plane.taskQueue, { manifestId, replicas: 1, manifest });
    const inUse = (await cluster.core.listNamespacedPod({ namespace: NAMESPACE })).items.length;
    await cluster.core.createNamespacedResourceQuota({
      namespace: NAMESPACE,
      body: { metadata: { name: 'agent-pods' }, spec: { hard: { pods: String(inUse + 1) } } },
    });
    try {
      await eventually(
        'the quota to be counted',
        async () =>
          !!(await cluster.core.readNamespacedResourceQuota({ name: 'agent-pods', namespace: NAMESPACE })).status?.used,
      );
      const pool = plane.client.workflow.getHandle(poolWorkflowId(manifestId));
      await assert.rejects(pool.executeUpdate(scalePoolUpdate, { args: [3] }), (error: Error) => {
        assert.match(failureMessage(error), /exceeded quota: agent-pods/);
        assert.match(failureMessage(error), /ResourceQuota/);
        return true;
      });
      const status = await pool.query(poolStatusQuery);
      assert.equal(status.phase, 'running');
      assert.ok(
        status.agents.length >= 1 && status.agents.length <= 2,
        `the pool keeps what fits (${status.agents.join(', ')})`,
      );
      await eventually(
        'replicas back to what runs',
        async () =>
          (await apps.readNamespacedDeployment({ name: deploymentName(manifestId, '0.1.0'), namespace: NAMESPACE }))
            .spec?.replicas === (await pool.query(poolStatusQuery)).agents.length,
      );
    } finally {
      await cluster.core.deleteNamespacedResourceQuota({ name: 'agent-pods', namespace: NAMESPACE });
      await uninstall(manifestId);
    }
  });
});
