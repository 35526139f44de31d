/**
 * `npm run bench [-- --json]`: fleet figures against real servers and real
 * agent processes, each next to a baseline measured in the same process: the
 * time the process deployer alone takes to start one agent, no Temporal.
 */
import { EventBus } from '../../src/bus/event-bus';
import { AgentManifest, parse } from '../../src/domain';
import { installPool, poolId } from '../../src/fleet/pool-client';
import { RegistryStore } from '../../src/registry/registry-store';
import { scalePool, uninstallPool } from '../../workflows';
import { eventually, fastManifest } from '../support/fleet';
import { startTestServers } from '../support/test-servers';

const json = process.argv.includes('--json');
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const servers = await startTestServers(say);
Object.assign(process.env, servers.env);
const { controlPlane } = await import('../support/worker');
const { testServers, unique } = await import('../support/servers');

const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'bench' });
const bus = await EventBus.connect(testServers().natsUrl);
const taskQueue = unique('bench');
const plane = await controlPlane(taskQueue, { registry, bus });
plane.run();
const manifest = parse(AgentManifest, fastManifest('bench'), 'manifest');
const interval = manifest.health_check.interval_secs * 1000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timed = async (work: () => Promise<unknown>) => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};

const results: { metric: string; ms: number; baselineRatio: number; intervalRatio: number; runs: number }[] = [];
try {
  say('baseline: the process deployer starting one agent, 3 runs');
  const baselineRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    baselineRuns.push(await timed(() => plane.deployer.deploy({ agentId: `bench-baseline-${i}`, manifest })));
    await plane.deployer.stop(`bench-baseline-${i}`);
  }
  const baseline = median(baselineRuns);
  const record = (metric: string, runs: number[]) => {
    const ms = median(runs);
    results.push({ metric, ms: Math.round(ms), baselineRatio: ms / baseline, intervalRatio: ms / interval, runs: runs.length });
  };
  record('deploy one agent process (baseline)', baselineRuns);

  await installPool(plane.client, taskQueue, { manifestId: 'bench', replicas: 1, manifest });
  say('kill -9 → replacement healthy, 3 runs');
  const recoveries: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = (await registry.instances.get('bench-001'))!;
    process.kill(Number(before.pod_id.replace('pid-', '')), 'SIGKILL');
    recoveries.push(
      await timed(() =>
        eventually('the replacement', async () => {
          const [instance, agent] = [await registry.instances.get('bench-001'), await registry.agents.get('bench-001')];
          return instance?.pod_id !== before.pod_id && agent?.status === 'Active';
        }, 120_000, 20),
      ),
    );
  }
  record('kill -9 → replacement healthy', recoveries);

  const pool = plane.client.workflow.getHandle(poolId('bench'));
  say('scale 1 → 20 → 1');
  record('scale 1 → 20 agent processes (all healthy)', [await timed(() => pool.executeUpdate(scalePool, { args: [20] }))]);
  record('scale 20 → 1 (drained and stopped)', [await timed(() => pool.executeUpdate(scalePool, { args: [1] }))]);
  await pool.executeUpdate(uninstallPool, { args: [{ force: true }] });
} finally {
  await plane.shutdown();
  await bus.close();
  await registry.close();
  await servers.stop(true);
}

if (json) process.stdout.write(`${JSON.stringify({ healthIntervalMs: interval, results })}\n`);
else {
  console.log(`\nfleet benchmark (health check every ${interval} ms, ${manifest.health_check.consecutive_failures_threshold} failures to restart)\n`);
  console.log(`${'metric'.padEnd(46)}${'median ms'.padStart(10)}${'× baseline'.padStart(12)}${'× interval'.padStart(12)}`);
  for (const r of results) console.log(`${r.metric.padEnd(46)}${String(r.ms).padStart(10)}${r.baselineRatio.toFixed(2).padStart(12)}${r.intervalRatio.toFixed(2).padStart(12)}`);
}
process.exit(0);
