import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { EventBus } from '../../src/bus/event-bus';
import { AgentManifest, SUBJECTS, parse } from '../../src/domain';
import { installPool } from '../../src/client/pool-client';
import { poolWorkflowId, taskWorkflowId } from '../../src/contracts/workflow-ids';
import { WORKER_TUNING } from '../../src/temporal/worker-tuning';
import { uninstallPoolUpdate } from '../../src/contracts/fleet';
import { submitTask } from '../../src/client/task-client';
import { agentProcesses, fastManifest } from '../support/fleet';
import { testConverter, testServers, unique } from '../support/servers';
import { failureMessage } from '../../src/temporal/failure-message';
import { planeProcess } from '../support/plane-process';
import { cpuByGroup } from './cpu-use';
import { latencies, type Latencies } from './stats';
import { historyCounts, persistenceOps, persistencePerUnit, type ServerCounts } from './server-counts';
import type { baselineWorkflow, floorWorkflow } from './baseline-workflow';

/** Server work per unit: history counts, and persistence operations (all, and the most frequent by name). */
type PerUnit = ServerCounts & {
  persistence: number;
  topPersistence: Record<string, number>;
  published: number;
  /** Requests the agents (and the bench) made to the control plane's API. */
  apiRequests: number;
  /** Queries the control plane made to SurrealDB. */
  registryQueries: number;
};

/** CPU ms per unit of work while its scenario ran, by process and in all, and the cores kept busy. */
type CpuUse = { perUnitMs: Record<string, number>; totalMs: number; cores: number };

/** Starts one unit of work; resolves, once started, with a promise of its end. */
type Start = (id: string) => Promise<{ done: Promise<unknown> }>;

/** Promises kept by id, resolved with the time an event about that id arrived. */
class Waiters {
  private readonly pending = new Map<string, { arrive: (at: number) => void; timer: NodeJS.Timeout }>();

  wait(id: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${id}: nothing arrived within ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(id, {
        arrive: (at) => {
          this.forget(id);
          resolve(at);
        },
        timer,
      });
    });
  }

  arrive(id: string): void {
    this.pending.get(id)?.arrive(performance.now());
  }

  /** Stops waiting for `id` (its start failed), its promise left unsettled. */
  forget(id: string): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
  }
}

export interface Scenario {
  name: string;
  baseline: Latencies;
  assignment: Latencies;
  /** The floor workflow's own (see floorWorkflow): its throughput is what a task's shape allows at best. */
  floor: Latencies;
  /** Submitted → ended: a task's whole life (TaskCompleted and its result), beside a baseline workflow's start → result. */
  life: { baseline: Latencies; task: Latencies };
  /** CPU per task, per baseline workflow and per floor workflow (the baseline and one activity in another process). */
  cpu: { task: CpuUse; baseline: CpuUse; floor: CpuUse };
  /** What each task, baseline and floor workflow made the server do, and the task events stored on JetStream per task. */
  server: { task: PerUnit; baseline: PerUnit; floor: PerUnit };
  /** The spec's and the issue's bound on p99 for this scenario, if any. */
  targetP99?: number;
}

/** A scenario's tasks failed (an overload the stack did not ride through): what the scenarios before it measured. */
export class ScenarioFailed extends Error {
  constructor(
    scenario: string,
    readonly measured: Scenario[],
    cause: unknown,
  ) {
    super(`${scenario}: ${failureMessage(cause)}`, { cause });
  }
}

/** `half`: half the baseline's closed-loop throughput at 100 concurrent, measured just before. */
const SCENARIOS: (
  { kind: 'closed'; concurrency: number; samples: number } | { kind: 'open'; rate: number | 'half'; seconds: number }
)[] = [
  { kind: 'closed', concurrency: 1, samples: 500 },
  { kind: 'closed', concurrency: 10, samples: 500 },
  { kind: 'closed', concurrency: 100, samples: 1000 },
  { kind: 'open', rate: 'half', seconds: 10 },
  { kind: 'open', rate: 50, seconds: 5 },
  { kind: 'open', rate: 100, seconds: 5 },
];
const CLOSED_1 = 'closed loop, 1 concurrent';
const CLOSED_100 = 'closed loop, 100 concurrent';
const OPEN_HALF = "open loop at half the baseline's throughput";
const TARGETS: Record<string, number> = { [CLOSED_1]: 15, 'open loop, 100 tasks/s': 100 };

/**
 * Task assignment latency: from a task's submission (an Update to the task
 * dispatcher, which starts its taskWorkflow) to its TaskAssigned event arriving on NATS, with real agent processes taking the
 * work and the control plane in its own process, as in production. Beside
 * it, in this (the measuring) process on the same server, the baseline: from the
 * start of a bare workflow to its one no-op local activity running.
 */
export async function assignmentBench(
  bus: EventBus,
  say: (line: string) => void,
  onStop: (() => Promise<unknown>)[],
  /** Given to the control plane (and so its agents): OTEL_EXPORTER_OTLP_ENDPOINT for the traced run. */
  env: Record<string, string> = {},
  /** Only the scenarios whose name contains this (`--scenario`), e.g. "closed loop, 1 ". */
  scenarios?: string,
): Promise<Scenario[]> {
  const plane = await planeProcess('bench-plane', env);
  onStop.push(async () => {
    await plane.close();
    for (const pid of agentProcesses('benchwork-')) process.kill(pid, 'SIGTERM');
  });
  const { taskQueue } = plane;
  plane.start();
  const manifest = parse(
    AgentManifest,
    fastManifest('benchwork', {
      max_concurrent_tasks: 1000,
      health_check: {
        interval_secs: 5,
        timeout_secs: 2,
        consecutive_failures_threshold: 3,
        auto_restart_enabled: true,
      },
    }),
    'manifest',
  );
  say('assignment: control-plane worker process, installing 2 developer agents');
  await installPool(plane.client, taskQueue, { manifestId: 'benchwork', replicas: 2, manifest });

  const assigned = new Waiters();
  const subscription = bus.subscribe(SUBJECTS.TaskAssigned, (m) => {
    if (m.type === 'TaskAssigned') assigned.arrive(m.task_id);
  });
  const baselineQueue = unique('baseline');
  const connection = await NativeConnection.connect({ address: testServers().temporalAddress });
  const worker = await Worker.create({
    connection,
    taskQueue: baselineQueue,
    workflowsPath: fileURLToPath(new URL('./baseline-workflow.ts', import.meta.url)),
    activities: { noop: async (id: string) => assigned.arrive(id) },
    ...WORKER_TUNING,
    // Encrypted as the plane's payloads are, in the run that measures the codec.
    dataConverter: testConverter(),
  });
  const running = worker.run();
  const floorQueue = unique('floor');
  const floorWorker = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./activity-worker.ts', import.meta.url)), floorQueue],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  onStop.push(async () => void floorWorker.kill('SIGTERM'));
  await once(floorWorker.stdout, 'data');

  const startTask: Start = async (id) => {
    const { workflow_id, run_id } = await submitTask(plane.client, taskQueue, {
      task_id: id,
      role: 'developer',
      title: 'benchmark task',
    });
    return { done: plane.client.workflow.getHandle(workflow_id, run_id).result() };
  };
  const startBaseline: Start = async (id) => {
    const handle = await plane.client.workflow.start<typeof baselineWorkflow>('baselineWorkflow', {
      taskQueue: baselineQueue,
      workflowId: id,
      args: [id],
    });
    return { done: handle.result() };
  };
  const startFloor: Start = async (id) => {
    const handle = await plane.client.workflow.start<typeof floorWorkflow>('floorWorkflow', {
      taskQueue: baselineQueue,
      workflowId: id,
      args: [id, floorQueue],
    });
    return { done: handle.result() };
  };

  /** One sample: from `from` (now, or the time an open loop meant to start it) to its arrival, and to its end. */
  let started: string[] = [];
  const sample = async (start: Start, from = performance.now()) => {
    const id = unique('b');
    started.push(id);
    // An overloaded open loop queues for minutes on a slow machine: lost, not slow, is what fails here.
    const arrival = assigned.wait(id, 300_000);
    const { done } = await start(id).catch((e: Error) => {
      assigned.forget(id);
      return Promise.reject(new Error(`${id}: ${failureMessage(e)}`));
    });
    return { ms: (await arrival) - from, life: done.then(() => performance.now() - from) };
  };
  type Measured = { assigned: Latencies; life: Latencies };
  // Closed loop: each of `concurrency` users submits a task, waits for it to finish, and submits the next.
  const closed = async (start: Start, concurrency: number, samples: number): Promise<Measured> => {
    const ms: number[] = [];
    const life: number[] = [];
    const began = performance.now();
    // The first failure stops every user after its current task: none still submitting when the servers stop.
    let failure: { error: unknown } | undefined;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (!failure && ms.length < samples) {
          try {
            const s = await sample(start);
            ms.push(s.ms);
            life.push(await s.life);
          } catch (error) {
            failure ??= { error };
          }
        }
      }),
    );
    if (failure) throw failure.error;
    const elapsed = performance.now() - began;
    return { assigned: latencies(ms, elapsed), life: latencies(life, elapsed) };
  };
  // Open loop: each start is due at a fixed time whether or not earlier ones are done, and is measured from then.
  const open = async (start: Start, rate: number, seconds: number): Promise<Measured> => {
    const began = performance.now();
    const pending: Promise<{ ms: number; life: Promise<number> }>[] = [];
    for (let i = 0; i < rate * seconds; i++) {
      const due = began + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(sample(start, due));
    }
    // Every start settled before a failure is reported: none still retrying when the servers stop.
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const samples = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const life = await Promise.all(samples.map((x) => x.life));
    const elapsed = performance.now() - began;
    return {
      assigned: latencies(
        samples.map((x) => x.ms),
        elapsed,
      ),
      life: latencies(life, elapsed),
    };
  };

  // Where each task's CPU goes: what bounds the rate this machine can take tasks at.
  const { temporalAddress, natsUrl } = testServers();
  const port = (address: string) => address.slice(address.lastIndexOf(':') + 1);
  const cpuTime = () =>
    cpuByGroup({
      'Temporal server': ({ argv }) => argv.includes('start-dev') && argv.includes(port(temporalAddress)),
      'control plane': ({ pid }) => pid === plane.pid,
      // The floor's activity worker stands where the agents do.
      agents: ({ pid, argv }) => pid === floorWorker.pid || argv.some((a) => a.startsWith('benchwork-')),
      'nats-server': ({ argv }) => argv[0]!.endsWith('nats-server') && argv.includes(port(natsUrl)),
      'bench client': ({ pid }) => pid === process.pid,
    });
  const metricsUrl = process.env.VAPORA_TEST_TEMPORAL_METRICS!;
  /** Requests the plane's API answered (these reads of /metrics aside) and its SurrealDB queries, by its own counters. */
  const planeCounts = async () => {
    const lines = (await (await fetch(`http://${plane.apiAddress}/metrics`)).text()).split('\n');
    const sum = (prefix: string) =>
      lines
        .filter((l) => l.startsWith(prefix) && !l.includes('route="/metrics"'))
        .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    return { requests: sum('vapora_api_requests_total{'), queries: sum('vapora_registry_queries_total ') };
  };
  const measured = async (work: () => Promise<Measured>, workflowId: (id: string) => string, dispatched: boolean) => {
    started = [];
    const [ops, stored, plane0, from] = [
      await persistenceOps(metricsUrl),
      await bus.storedCount(),
      await planeCounts(),
      new Date(),
    ];
    const before = cpuTime();
    const began = performance.now();
    const { assigned: latencies, life } = await work();
    const elapsed = performance.now() - began;
    const after = cpuTime();
    const [opsAfter, storedAfter, plane1, to] = [
      await persistenceOps(metricsUrl),
      await bus.storedCount(),
      await planeCounts(),
      new Date(),
    ];
    const used = Object.entries(after).map(([group, ms]) => [group, ms - (before[group] ?? 0)] as const);
    const round = (x: number) => Math.round(x * 10) / 10;
    const total = used.reduce((sum, [, ms]) => sum + ms, 0);
    // Histories of a sample of the units (and, for tasks, the dispatchers' share per Update) after the CPU was read.
    const counts = await historyCounts(
      plane.client,
      started.slice(0, 20).map(workflowId),
      dispatched ? { query: `WorkflowType = 'taskDispatcherWorkflow'`, from, to } : undefined,
    );
    const server: PerUnit = {
      ...counts,
      ...persistencePerUnit(ops, opsAfter, latencies.samples, 6),
      published: round((storedAfter - stored) / latencies.samples),
      apiRequests: round((plane1.requests - plane0.requests) / latencies.samples),
      registryQueries: round((plane1.queries - plane0.queries) / latencies.samples),
    };
    const cpu: CpuUse = {
      perUnitMs: Object.fromEntries(used.map(([group, ms]) => [group, round(ms / latencies.samples)])),
      totalMs: round(total / latencies.samples),
      cores: round(total / elapsed),
    };
    return { latencies, life, cpu, server };
  };

  const results: Scenario[] = [];
  try {
    say('warming up');
    await closed(startBaseline, 5, 50);
    await closed(startFloor, 5, 50);
    await closed(startTask, 5, 50);
    for (const s of SCENARIOS) {
      const half = results.find((r) => r.name === CLOSED_100)?.baseline.throughput;
      const rate = s.kind === 'closed' ? 0 : s.rate === 'half' ? (half ? Math.round(half / 2) : undefined) : s.rate;
      const name =
        s.kind === 'closed'
          ? `closed loop, ${s.concurrency} concurrent`
          : s.rate === 'half'
            ? `${OPEN_HALF} (${rate} tasks/s)`
            : `open loop, ${rate} tasks/s`;
      if ((scenarios && !name.includes(scenarios)) || rate === undefined) continue;
      say(`${name}: baseline, floor, then assignment`);
      const run = (start: Start) =>
        s.kind === 'closed' ? closed(start, s.concurrency, s.samples) : open(start, rate, s.seconds);
      const baseline = await measured(
        () => run(startBaseline),
        (id) => id,
        false,
      );
      const floor = await measured(
        () => run(startFloor),
        (id) => id,
        false,
      );
      const assignment = await measured(() => run(startTask), taskWorkflowId, true).catch((error: unknown) => {
        throw new ScenarioFailed(name, results, error);
      });
      results.push({
        name,
        baseline: baseline.latencies,
        assignment: assignment.latencies,
        floor: floor.latencies,
        life: { baseline: baseline.life, task: assignment.life },
        cpu: { task: assignment.cpu, baseline: baseline.cpu, floor: floor.cpu },
        server: { task: assignment.server, baseline: baseline.server, floor: floor.server },
        targetP99: TARGETS[name],
      });
    }
  } finally {
    subscription.unsubscribe();
    worker.shutdown();
    floorWorker.kill('SIGTERM');
    await running;
    await connection.close();
    await plane.client.workflow
      .getHandle(poolWorkflowId('benchwork'))
      .executeUpdate(uninstallPoolUpdate, { args: [{ force: true }] });
    await plane.close();
  }
  return results;
}

export function printAssignment(results: Scenario[]): void {
  const ms = (l: Latencies) => `${l.p50.toFixed(1)} / ${l.p95.toFixed(1)} / ${l.p99.toFixed(1)}`;
  console.log('\ntask assignment latency: task submitted → TaskAssigned on NATS, ms p50 / p95 / p99');
  console.log('baseline: a bare workflow start → its one no-op local activity, same process, same server\n');
  console.log(
    `${'scenario'.padEnd(28)}${'baseline'.padStart(22)}${'assignment'.padStart(24)}${'× p50'.padStart(8)}${'× p99'.padStart(8)}${'tasks/s'.padStart(9)}  target`,
  );
  for (const r of results) {
    const target =
      r.targetP99 === undefined ? '' : `p99 < ${r.targetP99} ms: ${r.assignment.p99 < r.targetP99 ? 'met' : 'MISSED'}`;
    console.log(
      `${r.name.padEnd(28)}${ms(r.baseline).padStart(22)}${ms(r.assignment).padStart(24)}${(r.assignment.p50 / r.baseline.p50).toFixed(2).padStart(8)}${(r.assignment.p99 / r.baseline.p99).toFixed(2).padStart(8)}${r.assignment.throughput.toFixed(0).padStart(9)}  ${target}`,
    );
  }
  const groups = Object.keys(results[0]?.cpu.task.perUnitMs ?? {});
  if (!groups.length) return;
  console.log(
    `\nCPU per task while the assignments ran, ms (from /proc), and the cores kept busy (${availableParallelism()} here); the same per baseline workflow, and per floor workflow: the baseline, then one no-op activity in another process (it stands where the agents do), the least a task's shape costs on Temporal\n`,
  );
  console.log(
    `${'scenario'.padEnd(36)}${groups.map((g) => g.padStart(17)).join('')}${'total'.padStart(8)}${'cores'.padStart(7)}`,
  );
  for (const { name, cpu } of results)
    for (const who of ['task', 'baseline', 'floor'] as const)
      console.log(
        `${`${name}: ${who}`.padEnd(36)}${groups.map((g) => cpu[who].perUnitMs[g]!.toFixed(1).padStart(17)).join('')}${cpu[who].totalMs.toFixed(1).padStart(8)}${cpu[who].cores.toFixed(1).padStart(7)}`,
      );
  console.log(
    "\na task's whole life: submitted → ended (TaskCompleted, its result), beside a baseline workflow's start → result, ms p50 / p99\n",
  );
  for (const r of results)
    console.log(
      `${r.name.padEnd(48)}${`${r.life.baseline.p50.toFixed(1)} / ${r.life.baseline.p99.toFixed(1)}`.padStart(18)}${`${r.life.task.p50.toFixed(1)} / ${r.life.task.p99.toFixed(1)}`.padStart(20)}${(r.life.task.p50 / r.life.baseline.p50).toFixed(2).padStart(8)}×`,
    );
  printServerCounts(results);
  printTargets(results);
}

/** Issue #19's targets, each a ratio to the baseline measured in the same run. */
function printTargets(results: Scenario[]): void {
  // A line without a target is reported beside the one it explains.
  const lines: [string, number, string?, boolean?][] = [];
  for (const r of results) {
    if (r.name !== CLOSED_1) {
      lines.push([
        `${r.name}: CPU per task / baseline's`,
        r.cpu.task.totalMs / r.cpu.baseline.totalMs,
        '≤ 2',
        r.cpu.task.totalMs <= 2 * r.cpu.baseline.totalMs,
      ]);
      lines.push([
        `${r.name}: the floor's CPU per workflow / baseline's`,
        r.cpu.floor.totalMs / r.cpu.baseline.totalMs,
      ]);
    }
    if (r.name === CLOSED_100) {
      const x = r.assignment.throughput / r.baseline.throughput;
      lines.push([`${r.name}: tasks/s / baseline's workflows/s`, x, '≥ 0.6', x >= 0.6]);
      lines.push([`${r.name}: the floor's workflows/s / baseline's`, r.floor.throughput / r.baseline.throughput]);
    }
    if (r.name.startsWith(OPEN_HALF))
      lines.push([`${r.name}: assignment p99 ms`, r.assignment.p99, '< 100', r.assignment.p99 < 100]);
    if (r.name === CLOSED_1) {
      const p99 = r.assignment.p99 / r.baseline.p99;
      const life = r.life.task.p50 / r.life.baseline.p50;
      lines.push([`${r.name}: assignment p99 / baseline's`, p99, '≤ 0.25', p99 <= 0.25]);
      lines.push([`${r.name}: task life p50 / baseline's start → result`, life, '≤ 3', life <= 3]);
    }
  }
  if (!lines.length) return;
  console.log('\ntargets (issue #19), as ratios to the baseline in this run\n');
  for (const [what, value, target, met] of lines)
    console.log(
      `${what.padEnd(72)}${value.toFixed(2).padStart(9)}  ${(target ?? '').padEnd(7)}${met === undefined ? '' : met ? 'met' : 'MISSED'}`,
    );
}

/** What the server did per task and per baseline workflow: where a task's cost goes, and what each change saved. */
function printServerCounts(results: Scenario[]): void {
  if (!results.length) return;
  const columns: [string, (u: PerUnit) => number][] = [
    ['persist ops', (u) => u.persistence],
    ['wf tasks', (u) => u.workflowTasks],
    ['activities', (u) => u.activities],
    ['local acts', (u) => u.localActivities],
    ['timers', (u) => u.timers],
    ['SA upserts', (u) => u.upserts],
    ['children', (u) => u.childStarts],
    ['events', (u) => u.events],
    ['JS publishes', (u) => u.published],
    ['API requests', (u) => u.apiRequests],
    ['DB queries', (u) => u.registryQueries],
  ];
  console.log(
    "\nper task (and per baseline and floor workflow): the dev server's persistence operations (its metrics), history counts (task and dispatcher), task events on JetStream, requests to the control plane's API, and its SurrealDB queries\n",
  );
  console.log(`${'scenario'.padEnd(36)}${columns.map(([c]) => c.padStart(13)).join('')}`);
  for (const r of results)
    for (const [who, unit] of [
      ['task', r.server.task],
      ['baseline', r.server.baseline],
      ['floor', r.server.floor],
    ] as const)
      console.log(
        `${`${r.name}: ${who}`.padEnd(36)}${columns.map(([, f]) => f(unit).toFixed(2).padStart(13)).join('')}`,
      );
  const top = results.at(-1)!.server.task.topPersistence;
  console.log(
    `\nthe most frequent persistence operations per task (${results.at(-1)!.name}): ${Object.entries(top)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')}`,
  );
}

/** A run with something on beside the same run without it, scenario by scenario: what it costs assignment. */
export function printOverhead(what: string, off: Scenario[], on: Scenario[]): void {
  console.log(`\n${what}`);
  console.log(
    `\n${'scenario'.padEnd(28)}${'off p50/p99 ms'.padStart(18)}${'on p50/p99 ms'.padStart(18)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'CPU/task'.padStart(10)}`,
  );
  for (const [i, a] of off.entries()) {
    const b = on[i];
    if (!b) continue;
    const pct = (x: number, y: number) => `${x >= y ? '+' : ''}${(((x - y) / y) * 100).toFixed(1)}%`;
    console.log(
      `${a.name.padEnd(28)}${`${a.assignment.p50.toFixed(1)} / ${a.assignment.p99.toFixed(1)}`.padStart(18)}${`${b.assignment.p50.toFixed(1)} / ${b.assignment.p99.toFixed(1)}`.padStart(18)}${pct(b.assignment.p50, a.assignment.p50).padStart(9)}${pct(b.assignment.p99, a.assignment.p99).padStart(9)}${pct(b.cpu.task.totalMs, a.cpu.task.totalMs).padStart(10)}`,
    );
  }
}
