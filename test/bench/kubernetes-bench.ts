import { basename } from 'node:path';
import { AppsV1Api, PatchStrategy, makeInformer, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { AgentManifest, parse } from '../../src/domain';
import { KubernetesDeployer } from '../../src/deploy/kubernetes-deployer';
import { installPool } from '../../src/client/pool-client';
import { agentLifecycleWorkflowId, poolWorkflowId } from '../../src/contracts/workflow-ids';
import type { RegistryStore } from '../../src/registry/registry-store';
import { agentIdFor, scalePoolUpdate, uninstallPoolUpdate } from '../../src/contracts/fleet';
import { eventually, fastManifest } from '../support/fleet';
import { historyCounts, persistenceOps, persistencePerUnit } from './server-counts';
import { cachedToolchain, localCluster } from '../support/kubernetes';
import { testServers } from '../support/servers';
import { median, timed } from './stats';
import { cpuByGroup } from './cpu-use';
import type { controlPlane } from '../support/worker';

type Plane = Awaited<ReturnType<typeof controlPlane>>;
const NAMESPACE = 'vapora-bench';
const BASELINE_RUNS = 3;
/** Issue #19: a scale either way within this many times the bare Deployment's. */
const MAX_RATIO = 8;

export interface KubernetesRow {
  step: string;
  ms: number;
  baselineRatio: number;
  requests?: number;
}

/** What one agent of a scale cost: the plane's registry queries, and the Temporal server's persistence operations. */
type ScaleCost = { step: string; registryQueries: number } & ReturnType<typeof persistencePerUnit>;

/** The cluster's own programs, whose CPU is counted beside Vapora's. */
const CLUSTER_PROGRAMS = ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;

/** CPU ms per pod (the baseline) or per agent (the pool) of one scale, by program, and their sum. */
export interface CpuCost {
  step: string;
  total: number;
  byProgram: Record<string, number>;
}

/**
 * One pool scaled 1 → N simulated pods and back through the real lifecycle
 * workflows, beside a baseline on the same cluster in the same process: a
 * bare Deployment scaled to N by one replicas write (what the cluster itself
 * needs to run N pods). Reports time to all pods Running, to all agents
 * registered Active, and the API requests the deployer made.
 */
export async function kubernetesBench(
  taskQueue: string,
  startPlane: (deployer: KubernetesDeployer) => Promise<Plane>,
  registry: RegistryStore,
  size: number,
  say: (line: string) => void,
  onStop: (() => Promise<unknown>)[],
) {
  const toolchain = cachedToolchain();
  if ('missing' in toolchain)
    return {
      skipped: `the local Kubernetes toolchain is missing ${toolchain.missing.join(', ')} (npx vapora provision --kubernetes)`,
    };
  say('kubernetes: starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)');
  const cluster = await localCluster();
  onStop.push(() => cluster.stop());
  const { admin: kc, core } = cluster;
  const temporalPort = testServers().temporalAddress.split(':').at(-1)!;
  const cpuUsed = () =>
    cpuByGroup({
      // The bench's watch during the baseline; the control plane (and the bench's polls) during the pool's scales.
      'this process': ({ pid }) => pid === process.pid,
      'Temporal server': ({ argv }) => argv.includes('start-dev') && argv.includes(temporalPort),
      ...Object.fromEntries(
        CLUSTER_PROGRAMS.map((name) => [
          name,
          ({ argv }: { argv: string[] }) => basename(argv[0]!) === name && argv.some((a) => a.includes(cluster.dir)),
        ]),
      ),
    });
  /** CPU ms each program used since `before` (a cpuUsed() reading), added to `into` when given. */
  const cpuSince = (before: Record<string, number>, into: Record<string, number> = {}) => {
    const now = cpuUsed();
    for (const k of Object.keys(now)) into[k] = (into[k] ?? 0) + now[k]! - (before[k] ?? 0);
    return into;
  };
  const cpu: CpuCost[] = [];
  const cpuPer = (step: string, used: Record<string, number>, units: number) => {
    const per = (ms: number) => Math.round((ms / units) * 100) / 100;
    const byProgram = Object.fromEntries(Object.entries(used).map(([k, ms]) => [k, per(ms)]));
    cpu.push({ step, total: per(Object.values(used).reduce((a, b) => a + b, 0)), byProgram });
  };
  const apps = kc.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await eventually(
    'the namespace default ServiceAccount',
    () => core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }),
    30_000,
  );
  // The baseline's pods counted from a watch: listing 1000 pods four times a second kept the API server busier than
  // the scale.
  const watched = makeInformer(kc, `/api/v1/namespaces/${NAMESPACE}/pods`, () =>
    core.listNamespacedPod({ namespace: NAMESPACE }),
  );
  await watched.start();
  onStop.push(() => watched.stop());
  const baselinePods = () => watched.list(NAMESPACE).filter((p) => p.metadata?.labels?.app === 'bench-baseline');
  const running = (pods: V1Pod[]) =>
    pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp).length;
  const untilCount = (what: string, probe: () => Promise<number>, n: number) =>
    eventually(what, async () => (await probe()) === n, 600_000, 250);
  const since = (t: number) => Math.round(performance.now() - t);

  say(`kubernetes baseline: a bare Deployment scaled 1 → ${size} → 1, ${BASELINE_RUNS} times`);
  await apps.createNamespacedDeployment({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'bench-baseline' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'bench-baseline' } },
        template: {
          metadata: { labels: { app: 'bench-baseline' } },
          spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
        },
      },
    },
  });
  await untilCount('the baseline pod', async () => running(baselinePods()), 1);
  const setReplicas = (replicas: number) =>
    apps.patchNamespacedDeploymentScale(
      {
        name: 'bench-baseline',
        namespace: NAMESPACE,
        body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  // Its median of a few runs: one run's time moved by 2× from bench to bench on the same machine.
  const baselineRuns = { up: [] as number[], down: [] as number[] };
  const baselineCpu = { up: {}, down: {} };
  /** Times `step`, adding the CPU it used to `into`. */
  const counted = async (into: Record<string, number>, step: () => Promise<void>) => {
    const before = cpuUsed();
    const ms = await timed(step);
    cpuSince(before, into);
    return Math.round(ms);
  };
  for (let run = 0; run < BASELINE_RUNS; run++) {
    const up = await counted(baselineCpu.up, async () => {
      await setReplicas(size);
      await untilCount(`${size} baseline pods Running`, async () => running(baselinePods()), size);
    });
    const down = await counted(baselineCpu.down, async () => {
      await setReplicas(1);
      await untilCount('1 baseline pod left', async () => baselinePods().length, 1);
    });
    baselineRuns.up.push(up);
    baselineRuns.down.push(down);
  }
  cpuPer(`bare Deployment 1 → ${size}`, baselineCpu.up, BASELINE_RUNS * (size - 1));
  cpuPer(`bare Deployment ${size} → 1`, baselineCpu.down, BASELINE_RUNS * (size - 1));
  const [baselineUp, baselineDown] = [median(baselineRuns.up), median(baselineRuns.down)];
  await apps.deleteNamespacedDeployment({ name: 'bench-baseline', namespace: NAMESPACE });
  // The pool's pods are counted from the deployer's own watch: a second one in the control plane's process parsed
  // every pod event again, a twentieth of its main thread during a scale.
  await watched.stop();

  const deployer = new KubernetesDeployer({
    kubeConfig: kc,
    namespace: NAMESPACE,
    tokenFor: (manifestId) => `bench-${manifestId}`,
    env: {
      TEMPORAL_ADDRESS: testServers().temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      NATS_URL: testServers().natsUrl,
      VAPORA_API_URL: 'http://127.0.0.1:8280',
    },
  });
  const plane = await startPlane(deployer);
  onStop.push(() => plane.shutdown());
  // Health checked every 10 s: a thousand agents each write their check to the registry.
  const manifest = parse(
    AgentManifest,
    fastManifest('kbench', {
      health_check: {
        interval_secs: 10,
        timeout_secs: 2,
        consecutive_failures_threshold: 3,
        auto_restart_enabled: true,
      },
    }),
    'manifest',
  );
  await installPool(plane.client, taskQueue, { manifestId: manifest.id, replicas: 1, manifest });
  const pool = plane.client.workflow.getHandle(poolWorkflowId(manifest.id));
  const poolPods = () => deployer.poolPods(manifest.id);
  const requests = () => [...deployer.api.made.values()].reduce((a, b) => a + b, 0);
  // Counted in the registry, not listed: the bench polls it in the control plane's process.
  let polls = 0;
  const active = () => {
    polls++;
    return registry.agents.count({ manifest_id: manifest.id, status: 'Active' });
  };
  /** The plane's registry queries so far, less the bench's own polls. */
  const planeQueries = () => registry.queries - polls;
  const rows: KubernetesRow[] = [];
  const row = (step: string, ms: number, baseline: number, requestCount?: number) =>
    rows.push({ step, ms, baselineRatio: ms / baseline, requests: requestCount });

  const metricsUrl = process.env.VAPORA_TEST_TEMPORAL_METRICS!;
  const costs: ScaleCost[] = [];
  const costsNow = async () => ({ ops: await persistenceOps(metricsUrl), queries: planeQueries(), cpu: cpuUsed() });
  /** What each agent of a scale cost since `before`: registry queries, persistence operations, CPU by program. */
  const costPerAgent = async (step: string, before: Awaited<ReturnType<typeof costsNow>>, agents: number) => {
    cpuPer(`pool ${step}`, cpuSince(before.cpu), agents);
    costs.push({
      step,
      registryQueries: Math.round(((planeQueries() - before.queries) / agents) * 10) / 10,
      ...persistencePerUnit(before.ops, await persistenceOps(metricsUrl), agents, 5),
    });
  };

  /** Where a scale stands, every 10 s while it runs. */
  const progress = (started: number) => {
    const timer = setInterval(
      () =>
        void Promise.all([poolPods(), active()]).then(([pods, agents]) =>
          say(
            `  ${Math.round((performance.now() - started) / 1000)} s: ${pods.length} pods (${running(pods)} Running), ${agents} agents Active`,
          ),
        ),
      10_000,
    );
    return () => clearInterval(timer);
  };

  say(`kubernetes: vapora pool scaled 1 → ${size}`);
  let costsBefore = await costsNow();
  let before = requests();
  let t = performance.now();
  let quiet = progress(t);
  const scaled = pool.executeUpdate(scalePoolUpdate, { args: [size] });
  await untilCount(`${size} pool pods Running`, async () => running(await poolPods()), size);
  const podsUp = since(t);
  await untilCount(`${size} agents registered Active`, active, size);
  const registeredUp = since(t);
  await scaled;
  const updateUp = since(t);
  quiet();
  const requestsUp = requests() - before;
  await costPerAgent(`1 → ${size}`, costsBefore, size - 1);
  // A sample of the instances' lifecycles, and the pool's events for each instance it started.
  const ids = Array.from({ length: Math.min(20, size) }, (_, i) =>
    agentLifecycleWorkflowId(agentIdFor(manifest.id, i + 1)),
  );
  const lifecycle = await historyCounts(plane.client, ids);
  const poolEvents = (await historyCounts(plane.client, [poolWorkflowId(manifest.id)])).events / size;
  row(`bare Deployment 1 → ${size}, all Running (baseline)`, baselineUp, baselineUp);
  row(`pool 1 → ${size}: all pods Running`, podsUp, baselineUp);
  row(`pool 1 → ${size}: all agents registered Active`, registeredUp, baselineUp);
  row(`pool 1 → ${size}: scale update returned`, updateUp, baselineUp, requestsUp);

  say(`kubernetes: vapora pool scaled ${size} → 1`);
  costsBefore = await costsNow();
  before = requests();
  t = performance.now();
  quiet = progress(t);
  await pool.executeUpdate(scalePoolUpdate, { args: [1] });
  const updateDown = since(t);
  await untilCount('1 pool pod left', async () => (await poolPods()).length, 1);
  const podsDown = since(t);
  quiet();
  row(`bare Deployment ${size} → 1, pods gone (baseline)`, baselineDown, baselineDown);
  row(`pool ${size} → 1: scale update returned`, updateDown, baselineDown, requests() - before);
  row(`pool ${size} → 1: pods gone`, podsDown, baselineDown);
  await costPerAgent(`${size} → 1`, costsBefore, size - 1);
  await pool.executeUpdate(uninstallPoolUpdate, { args: [{ force: true }] });
  return {
    size,
    baselineRuns,
    requestsByKind: Object.fromEntries(deployer.api.made),
    rows,
    costs,
    cpu,
    lifecycle,
    poolEvents,
  };
}

export function printKubernetes(result: Awaited<ReturnType<typeof kubernetesBench>>): void {
  if ('skipped' in result) {
    console.log(`\nkubernetes: skipped: ${result.skipped}`);
    return;
  }
  console.log(`\nkubernetes (real kube-apiserver, kwok node; ${result.size} simulated pods)\n`);
  console.log(`${'step'.padEnd(50)}${'ms'.padStart(9)}${'× baseline'.padStart(12)}${'API requests'.padStart(14)}`);
  for (const r of result.rows)
    console.log(
      `${r.step.padEnd(50)}${String(r.ms).padStart(9)}${r.baselineRatio.toFixed(2).padStart(12)}${(r.requests === undefined ? '' : String(r.requests)).padStart(14)}`,
    );
  console.log(
    `baseline: the median of ${BASELINE_RUNS} runs: up ${result.baselineRuns.up.join(', ')} ms; down ${result.baselineRuns.down.join(', ')} ms`,
  );
  console.log(
    `requests by kind: ${Object.entries(result.requestsByKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `\nper agent: the control plane's registry queries; the Temporal server's persistence_requests metrics\n`,
  );
  for (const c of result.costs)
    console.log(
      `${c.step.padEnd(14)}${String(c.registryQueries).padStart(6)} registry queries; ${c.persistence} persistence ops: ${Object.entries(
        c.topPersistence,
      )
        .map(([op, n]) => `${op} ${n}`)
        .join(', ')}`,
    );
  if (result.cpu.length) {
    const programs = Object.keys(result.cpu[0]!.byProgram);
    console.log(`\nCPU per pod (the baseline, over its ${BASELINE_RUNS} runs) and per agent (the pool), ms\n`);
    console.log(`${'scale'.padEnd(26)}${'all'.padStart(8)}${programs.map((p) => p.padStart(p.length + 2)).join('')}`);
    for (const c of result.cpu)
      console.log(
        `${c.step.padEnd(26)}${c.total.toFixed(1).padStart(8)}${programs.map((p) => c.byProgram[p]!.toFixed(1).padStart(p.length + 2)).join('')}`,
      );
    const total = (step: string) => result.cpu.find((c) => c.step === step)?.total ?? NaN;
    const n = result.size;
    console.log(
      `the pool's CPU per agent / the baseline's per pod: up ${(total(`pool 1 → ${n}`) / total(`bare Deployment 1 → ${n}`)).toFixed(2)}, down ${(total(`pool ${n} → 1`) / total(`bare Deployment ${n} → 1`)).toFixed(2)}`,
    );
  }
  console.log('\ntargets (issue #19), as ratios to the baseline in this run\n');
  const ratio = (step: string) => result.rows.find((r) => r.step === step)!.baselineRatio;
  for (const [what, value] of [
    [
      `pool 1 → ${result.size}: all agents registered Active`,
      ratio(`pool 1 → ${result.size}: all agents registered Active`),
    ],
    [`pool ${result.size} → 1: pods gone`, ratio(`pool ${result.size} → 1: pods gone`)],
  ] as const)
    console.log(
      `${what.padEnd(50)}${value.toFixed(2).padStart(9)}  ≤ ${MAX_RATIO}   ${value <= MAX_RATIO ? 'met' : 'MISSED'}`,
    );
  const l = result.lifecycle;
  console.log(
    `\na lifecycle up to its health watch (mean of 20): ${l.events} events, ${l.workflowTasks} workflow tasks, ` +
      `${l.activities} activities, ${l.upserts} search-attribute upserts; the pool: ${result.poolEvents.toFixed(2)} events per instance`,
  );
}
