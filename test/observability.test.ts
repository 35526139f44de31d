import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/host/project';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { installPool } from '../src/client/pool-client';
import { submitTask } from '../src/client/task-client';
import { AgentManifest, parse } from '../src/domain';
import { freePort } from '../src/host/ports';
import { scrapeTargetsFile } from '../src/control-plane/scrape-targets';
import { gaugeSources } from '../src/control-plane/gauge-sources';
import { featureWorkflowId } from '../src/contracts/workflow-ids';
import { RegistryStore } from '../src/registry/registry-store';
import { visibilityLiteral } from '../src/temporal/visibility-literal';
import { ALERT_RULES, ensurePrometheus, startPrometheus } from '../src/stack/prometheus';
import type { SupervisedProcess } from '../src/stack/supervised-process';
import { agentProcesses, eventually, fastManifest, uninstallPools } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { firstValue, promQuery } from './support/prometheus';
import { tempDir, unique } from './support/servers';

/** `promtool` beside the Prometheus Vapora provisions (Debian's package has both). */
const promtool = (args: string[], input?: string) => {
  const result = spawnSync('promtool', args, { input, encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
};

/** Series of Vapora's own metrics in a /metrics text: one line each, comments aside. */
const vaporaSeries = (text: string) => text.split('\n').filter((l) => l.startsWith('vapora_'));

describe('metrics and alerts (real Prometheus, the control plane and two agents as processes)', () => {
  const manifestId = unique('metrics');
  let plane: Awaited<ReturnType<typeof planeProcess>>;
  let prometheus: SupervisedProcess;
  let prometheusUrl: string;
  let stale: WorkflowHandle | undefined;

  const query = (promql: string) => promQuery(prometheusUrl, promql);
  const value = firstValue;
  const controlPlaneMetrics = async () => (await fetch(`http://${plane.apiAddress}/metrics`)).text();
  const runTasks = async (n: number) => {
    const ids = Array.from({ length: n }, () => unique('mt'));
    // Ten at a time: as a person's features would, not all at once.
    for (let i = 0; i < ids.length; i += 10)
      await Promise.all(
        ids.slice(i, i + 10).map(async (task_id) => {
          await submitTask(plane.client, plane.taskQueue, { task_id, role: 'developer', title: 'Count the metrics' });
          assert.equal((await plane.client.workflow.getHandle(`task-${task_id}`).result()).status, 'completed');
        }),
      );
  };

  /** A running feature whose worker is gone (or never came): a query to it waits for the server's 30 s. */
  const unanswered = (taskQueue: string) =>
    plane.client.workflow.start('featureWorkflow', {
      taskQueue,
      workflowId: featureWorkflowId(unique('unanswered')),
      args: [{ title: 'Nobody serves this', description: 'Its control plane is gone.' }],
    });

  before(async () => {
    const bin = await ensurePrometheus(() => undefined);
    const sdkPort = await freePort();
    plane = await planeProcess('metrics', { VAPORA_TEMPORAL_METRICS_PORT: String(sdkPort) });
    plane.start();
    // Another control plane's feature in the same namespace, its plane gone: not this one's to scrape.
    stale = await unanswered(unique('gone-plane'));
    await installPool(plane.client, plane.taskQueue, {
      manifestId,
      replicas: 2,
      manifest: parse(AgentManifest, fastManifest(manifestId), 'manifest'),
    });
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const dir = tempDir('prometheus');
    prometheus = await startPrometheus({
      bin: bin.path,
      host: '127.0.0.1',
      port,
      dir,
      logFile: `${dir}/prometheus.log`,
      sources: {
        controlPlane: plane.apiAddress,
        temporalSdk: `127.0.0.1:${sdkPort}`,
        agentsFile: scrapeTargetsFile(plane.stateDir),
        intervalSecs: 1,
      },
    });
  });
  after(async () => {
    await stale?.terminate('test over');
    await uninstallPools(plane.client, [manifestId]);
    await prometheus?.stop();
    await plane.close();
  });

  it('ships alert rules promtool accepts, and serves /metrics promtool accepts on the control plane and each agent', async () => {
    const rules = promtool(['check', 'rules', ALERT_RULES]);
    assert.ok(rules.ok, rules.output);
    assert.match(rules.output, /SUCCESS: 4 rules found/);
    const targets = JSON.parse(readFileSync(scrapeTargetsFile(plane.stateDir), 'utf8')) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    assert.equal(targets.length, 2, 'both agents are listed for Prometheus');
    for (const text of [
      await controlPlaneMetrics(),
      ...(await Promise.all(targets.map(async (t) => (await fetch(`http://${t.targets[0]}/metrics`)).text()))),
    ]) {
      // Parsed as Prometheus parses it, and Vapora's names linted (Node's own, from prom-client, are not ours to rename).
      const checked = promtool(['check', 'metrics'], text);
      assert.doesNotMatch(checked.output, /error|vapora_/, checked.output);
      assert.match(text, /^# TYPE vapora_events_published_total counter$/m);
    }
    assert.match(
      await controlPlaneMetrics(),
      new RegExp(`^vapora_agents\\{role="developer",status="Active"\\} 2$`, 'm'),
    );
  });

  it('after tasks, PromQL answers the assignment histogram and the tokens by role, and every target is up', async () => {
    await runTasks(5);
    const assigned = await eventually(
      'five assignments in Prometheus',
      async () => {
        const n = value(await query('sum(vapora_task_assignment_seconds_count)'));
        return n >= 5 && n;
      },
      30_000,
      500,
    );
    assert.ok(assigned >= 5);
    const p99 = value(await query('histogram_quantile(0.99, sum by (le) (vapora_task_assignment_seconds_bucket))'));
    assert.ok(p99 > 0 && p99 < 10, `assignment p99 ${p99} s`);
    const tokens = await query('sum by (role, kind) (vapora_llm_tokens_total)');
    assert.deepEqual(tokens.map((s) => `${s.metric.role}/${s.metric.kind}`).sort(), [
      'developer/input',
      'developer/output',
    ]);
    assert.ok(tokens.every((s) => Number(s.value[1]) > 0));
    assert.equal(value(await query('sum(vapora_tasks_total{role="developer",outcome="completed"})')), 5);
    // Requests counted by route: each agent stored a task's opening, answer, result and shared context in one write.
    const posts = vaporaSeries(await controlPlaneMetrics()).filter((l) =>
      l.startsWith('vapora_api_requests_total{method="POST"'),
    );
    assert.deepEqual(posts, ['vapora_api_requests_total{method="POST",route="/v1/writes",status="200"} 5']);
    // Targets found through the agents' file are scraped from their first refresh on.
    const up = await eventually(
      'every target scraped',
      async () => {
        const samples = await query('up');
        return samples.length === 4 && samples;
      },
      20_000,
      250,
    );
    const byJob = (job: string) => up.filter((s) => s.metric.job === job).map((s) => s.value[1]);
    assert.deepEqual(byJob('vapora-agents'), ['1', '1'], 'both agents are healthy targets');
    assert.deepEqual(byJob('vapora-control-plane'), ['1']);
    assert.deepEqual(byJob('temporal-sdk'), ['1'], "the control plane's Temporal SDK metrics");
  });

  it('shows an agent killed with SIGKILL as down, then up again once its lifecycle restarted it', async () => {
    const [pid] = agentProcesses(manifestId);
    assert.ok(pid, 'an agent process');
    const agentOf = (await query(`up{job="vapora-agents"}`)).map((s) => s.metric.agent_id!).sort();
    process.kill(pid, 'SIGKILL');
    const down = await eventually(
      'the killed agent down in Prometheus',
      async () => (await query('up{job="vapora-agents"} == 0'))[0]?.metric.agent_id,
      30_000,
      250,
    );
    assert.ok(agentOf.includes(down));
    await eventually(
      'the restarted agent up in Prometheus',
      async () => {
        const up = await query(`up{job="vapora-agents",agent_id="${down}"}`);
        return up.length === 1 && up[0]!.value[1] === '1';
      },
      60_000,
      500,
    );
    assert.equal(value(await query('sum(vapora_agent_restarts_total{role="developer"})')), 1);
    assert.ok(value(await query('sum(vapora_agent_health_check_seconds_count{ok="false"})')) >= 1);
  });

  it(
    "reads a feature's budget in a scrape's time even when the feature does not answer",
    { timeout: 10_000 },
    async () => {
      const taskQueue = unique('no-worker');
      const handle = await unanswered(taskQueue);
      const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'gauges' });
      try {
        const gauges = gaugeSources(registry, plane.client, taskQueue);
        await eventually(
          'the feature listed',
          async () => (await plane.client.workflow.count(`TaskQueue = ${visibilityLiteral(taskQueue)}`)).count === 1,
          5_000,
          100,
        );
        assert.equal(await gauges.featureBudgetUsed(), 0);
      } finally {
        await handle.terminate('test over');
        await registry.close();
      }
    },
  );

  it('ships a Grafana dashboard whose every query Prometheus accepts', async () => {
    const dashboard = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'deploy/observability/grafana-dashboard.json'), 'utf8'),
    ) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length >= 12);
    for (const expr of exprs) await query(expr); // throws with Prometheus's reason if it is refused
    assert.ok((await query('sum by (role, outcome) (rate(vapora_tasks_total[5m])) * 60')).length > 0);
  });

  it('keeps its label sets bounded: 100 more tasks add no series', async () => {
    const before = vaporaSeries(await controlPlaneMetrics()).map((l) => l.slice(0, l.lastIndexOf(' ')));
    await runTasks(100);
    const afterwards = vaporaSeries(await controlPlaneMetrics()).map((l) => l.slice(0, l.lastIndexOf(' ')));
    assert.deepEqual(afterwards.sort(), before.sort());
    assert.ok(!afterwards.some((l) => /mt-\d/.test(l)), 'no task id is a label');
  });
});
