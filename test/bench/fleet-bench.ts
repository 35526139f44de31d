import { AgentManifest, parse } from '../../src/domain';
import { installPool } from '../../src/client/pool-client';
import { poolWorkflowId } from '../../src/contracts/workflow-ids';
import type { RegistryStore } from '../../src/registry/registry-store';
import { scalePoolUpdate, uninstallPoolUpdate, upgradePoolUpdate } from '../../src/contracts/fleet';
import { eventually, fastManifest } from '../support/fleet';
import type { controlPlane } from '../support/worker';
import { median, timed } from './stats';

export interface FleetResult {
  metric: string;
  ms: number;
  baselineRatio: number;
  intervalRatio: number;
  runs: number;
}

/**
 * Fleet figures against real agent processes, next to a baseline measured in
 * the same process: the process deployer alone starting one agent, no Temporal.
 */
export async function fleetBench(
  plane: Awaited<ReturnType<typeof controlPlane>>,
  registry: RegistryStore,
  taskQueue: string,
  say: (line: string) => void,
) {
  const manifest = parse(AgentManifest, fastManifest('bench'), 'manifest');
  const interval = manifest.health_check.interval_secs * 1000;
  const results: FleetResult[] = [];
  say('fleet baseline: the process deployer starting one agent, 3 runs');
  const baselineRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    baselineRuns.push(await timed(() => plane.deployer.deploy({ agentId: `bench-baseline-${i}`, manifest })));
    await plane.deployer.stop(`bench-baseline-${i}`, manifest.id);
  }
  const baseline = median(baselineRuns);
  const record = (metric: string, runs: number[]) => {
    const ms = median(runs);
    results.push({
      metric,
      ms: Math.round(ms),
      baselineRatio: ms / baseline,
      intervalRatio: ms / interval,
      runs: runs.length,
    });
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
        eventually(
          'the replacement',
          async () => {
            const [instance, agent] = [
              await registry.instances.get('bench-001'),
              await registry.agents.get('bench-001'),
            ];
            return instance?.pod_id !== before.pod_id && agent?.status === 'Active';
          },
          120_000,
          20,
        ),
      ),
    );
  }
  record('kill -9 → replacement healthy', recoveries);

  const pool = plane.client.workflow.getHandle(poolWorkflowId('bench'));
  say('scale 1 → 20 → 1');
  record('scale 1 → 20 agent processes (all healthy)', [
    await timed(() => pool.executeUpdate(scalePoolUpdate, { args: [20] })),
  ]);
  record('scale 20 → 1 (drained and stopped)', [await timed(() => pool.executeUpdate(scalePoolUpdate, { args: [1] }))]);

  // A rolling upgrade replaces each instance in turn (a new one healthy, then an old one drained): beside scaling to the same size.
  say('scale 0 → 5, then a rolling upgrade of the 5 to 0.2.0');
  await pool.executeUpdate(scalePoolUpdate, { args: [0] });
  const scaled = await timed(() => pool.executeUpdate(scalePoolUpdate, { args: [5] }));
  record('scale 0 → 5 agent processes (all healthy)', [scaled]);
  const next = { ...manifest, version: '0.2.0', docker_image: 'vapora/agents:bench-0.2.0' };
  const upgraded = await timed(() => pool.executeUpdate(upgradePoolUpdate, { args: [{ manifest: next }] }));
  record('rolling upgrade of 5 to 0.2.0', [upgraded]);
  await pool.executeUpdate(uninstallPoolUpdate, { args: [{ force: true }] });
  return {
    healthIntervalMs: interval,
    threshold: manifest.health_check.consecutive_failures_threshold,
    results,
    upgradeVsScale: upgraded / scaled,
  };
}

export function printFleet({
  healthIntervalMs,
  threshold,
  results,
  upgradeVsScale,
}: Awaited<ReturnType<typeof fleetBench>>): void {
  console.log(`\nfleet (health check every ${healthIntervalMs} ms, ${threshold} failures to restart)\n`);
  console.log(
    `${'metric'.padEnd(46)}${'median ms'.padStart(10)}${'× baseline'.padStart(12)}${'× interval'.padStart(12)}`,
  );
  for (const r of results)
    console.log(
      `${r.metric.padEnd(46)}${String(r.ms).padStart(10)}${r.baselineRatio.toFixed(2).padStart(12)}${r.intervalRatio.toFixed(2).padStart(12)}`,
    );
  console.log(
    `\nrolling upgrade of 5 ÷ scale 0 → 5: ${upgradeVsScale.toFixed(2)} (one instance at a time, each healthy before an old one drains)`,
  );
}
