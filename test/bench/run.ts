/**
 * `npm run bench [-- --help]`: figures against real servers and real agent
 * processes, each beside a baseline measured in the same process on the same
 * servers.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EventBus } from '../../src/bus/event-bus';
import { RegistryStore } from '../../src/registry/registry-store';
import { describeIssues } from '../../src/domain/validation';
import { startTestServers } from '../support/test-servers';
import { newCodecKey } from '../../src/temporal/payload-codec';

const USAGE = `npm run bench -- [options]

Measures Vapora against real servers and real agent processes, each figure
beside a baseline measured in the same run on the same servers. Every suite
runs unless --only names one.

  --only <suite>       assignment, fleet, kubernetes or retrieval
  --scenario <text>    assignment: only the scenarios whose name holds it (e.g. "closed loop, 10 ")
  --traced             assignment: run again with every process exporting spans to Jaeger
  --encrypted          assignment: run again with every payload through the codec
  --pods <n>           kubernetes: the pool's size at its largest (default 1000)
  --json               the report as one JSON line on stdout (progress stays on stderr)
  --help               this text
`;

const BenchOptions = z.object({
  only: z.enum(['assignment', 'fleet', 'kubernetes', 'retrieval']).optional(),
  scenario: z.string().min(1).optional(),
  traced: z.boolean().default(false),
  encrypted: z.boolean().default(false),
  pods: z.coerce.number().int().min(1).max(10_000).default(1000),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** The options given, or a line naming what is wrong, then the usage, and exit 2. */
function benchOptions(): z.infer<typeof BenchOptions> {
  const refuse = (why: string): never => {
    process.stderr.write(`bench: ${why}\n\n${USAGE}`);
    process.exit(2);
  };
  try {
    const { values } = parseArgs({
      options: {
        only: { type: 'string' },
        scenario: { type: 'string' },
        traced: { type: 'boolean' },
        encrypted: { type: 'boolean' },
        pods: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
    const parsed = BenchOptions.safeParse(values);
    return parsed.success ? parsed.data : refuse(describeIssues(parsed.error).join('; '));
  } catch (error) {
    return refuse((error as Error).message);
  }
}

const options = benchOptions();
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const { json, scenario, pods } = options;
const wanted = (suite: string) => !options.only || options.only === suite;
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const servers = await startTestServers(say);
Object.assign(process.env, servers.env);
const { controlPlane } = await import('../support/worker');
const { testServers, unique } = await import('../support/servers');
const { fleetBench, printFleet } = await import('./fleet-bench');
const { ScenarioFailed, assignmentBench, printAssignment, printOverhead } = await import('./assignment-bench');
const { kubernetesBench, printKubernetes } = await import('./kubernetes-bench');
const { retrievalBench, printRetrieval } = await import('./retrieval-bench');

const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'bench' });
const bus = await EventBus.connect(testServers().natsUrl);
const taskQueue = unique('bench');
const plane = await controlPlane(taskQueue, { registry, bus });
plane.run();

// Ctrl-C or SIGTERM: stop what the bench started (agents are detached processes that would outlive it).
const onStop: (() => Promise<unknown>)[] = [() => plane.shutdown(), () => servers.stop(true)];
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping the agents and servers of this run`);
    void onStop
      .reverse()
      .reduce((done, stop) => done.then(stop).catch(() => undefined), Promise.resolve<unknown>(undefined))
      .finally(() => process.exit(130));
  });
}

/** Jaeger on free ports for the traced run, stopped with the rest; returns its OTLP endpoint. */
async function startBenchJaeger(say: (line: string) => void, onStop: (() => Promise<unknown>)[]): Promise<string> {
  const { ensureJaeger, startJaeger } = await import('../../src/stack/jaeger');
  const { freePorts } = await import('../../src/host/ports');
  const { loadConfig } = await import('../../src/config');
  const { tempDir } = await import('../support/servers');
  const bin = await ensureJaeger(loadConfig().cacheDir, say);
  const ports = await freePorts(['otlp', 'ui', 'grpc', 'health']);
  const dir = tempDir('bench-jaeger');
  const jaeger = await startJaeger({ bin: bin.path, host: '127.0.0.1', ports, dir, logFile: `${dir}/jaeger.log` });
  onStop.push(() => jaeger.stop());
  return `http://127.0.0.1:${ports.otlp}`;
}

let code = 0;
const report: Record<string, unknown> = {};
try {
  // A scenario that fails still leaves what the ones before it measured in the report.
  if (wanted('assignment'))
    report.assignment = await assignmentBench(bus, say, onStop, {}, scenario).catch((error: unknown) => {
      if (error instanceof ScenarioFailed) report.assignment = error.measured;
      throw error;
    });
  // The same run again with every process exporting its spans to a real Jaeger.
  if (wanted('assignment') && options.traced) {
    const otlp = await startBenchJaeger(say, onStop);
    say('assignment, traced: the same scenarios with tracing on');
    report.assignmentTraced = await assignmentBench(bus, say, onStop, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp }, scenario);
  }
  // And again with every payload encrypted (the plane, its agents and this process's clients share the key).
  if (wanted('assignment') && options.encrypted) {
    say('assignment, encrypted: the same scenarios with the payload codec on');
    process.env.VAPORA_CODEC_KEYS = newCodecKey('bench');
    report.assignmentEncrypted = await assignmentBench(bus, say, onStop, {}, scenario);
    delete process.env.VAPORA_CODEC_KEYS;
  }
  if (wanted('fleet')) report.fleet = await fleetBench(plane, registry, taskQueue, say);
  if (wanted('retrieval')) report.retrieval = await retrievalBench(say);
  if (wanted('kubernetes')) {
    const kubeQueue = unique('bench-kube');
    report.kubernetes = await kubernetesBench(
      kubeQueue,
      async (deployer) => {
        const kubePlane = await controlPlane(kubeQueue, { registry, bus, deployer });
        kubePlane.run();
        return kubePlane;
      },
      registry,
      pods,
      say,
      onStop,
    );
  }
} catch (error) {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  code = 1;
} finally {
  // What the suites started (the Kubernetes cluster and its plane), newest first.
  for (const stop of onStop.splice(2).reverse()) await stop().catch(() => undefined);
  await plane.shutdown();
  await bus.close();
  await registry.close();
  await servers.stop(code === 0);
}

if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  if (report.assignment) printAssignment(report.assignment as Awaited<ReturnType<typeof assignmentBench>>);
  // Each run with something on, beside the plain one.
  for (const [key, what] of [
    [
      'assignmentTraced',
      'tracing overhead on assignment: spans exported to Jaeger over OTLP, beside the same run untraced (goal: under 10 % at p50 and p99)',
    ],
    [
      'assignmentEncrypted',
      'encryption overhead on assignment: every payload through the AES-256-GCM codec, beside the same run in plain JSON',
    ],
  ] as const) {
    const on = report[key] as Awaited<ReturnType<typeof assignmentBench>> | undefined;
    if (!on) continue;
    printAssignment(on);
    printOverhead(what, report.assignment as Awaited<ReturnType<typeof assignmentBench>>, on);
  }
  if (report.fleet) printFleet(report.fleet as Awaited<ReturnType<typeof fleetBench>>);
  if (report.kubernetes) printKubernetes(report.kubernetes as Awaited<ReturnType<typeof kubernetesBench>>);
  if (report.retrieval) printRetrieval(report.retrieval as Awaited<ReturnType<typeof retrievalBench>>);
}
process.exit(code);
