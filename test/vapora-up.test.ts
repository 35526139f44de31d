import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect } from 'nats';
import { Client } from '@temporalio/client';
import { EventBus } from '../src/bus/event-bus';
import { loadConfig } from '../src/config';
import { freePort } from '../src/host/ports';
import { temporalConnection } from '../src/temporal/connection';
import type { Endpoints } from '../src/stack/dev-stack';
import type { AgentView } from '../src/contracts/registry-api';
import { AGENT_ROLES, subjectsOf } from '../src/domain';
import { exited, isAlive, vapora, vaporaUntilJson } from './support/cli';
import { agentProcesses, eventually } from './support/fleet';
import { registryProcess } from './support/registry-process-client';
import { firstValue, promQuery } from './support/prometheus';
import { stackEnv, tempDir, testConverter, testServers } from './support/servers';

type Ready = Endpoints & { status: string; pids: Record<string, number> };

/** How long `vapora up` may take to stop, whatever died first (worker 10 s, agents 5 s, servers 10 s, and margin). */
const STOP_BOUND_MS = 40_000;

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)),
  );
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('vapora up', () => {
  it('brings up the stack and the default team, serves the agent CLI, stops cleanly, and resumes with its state', async () => {
    const { temporalCli } = testServers();
    const stateDir = tempDir('up');
    // Stack traces on, as a person looking at a stuck workflow would turn them on.
    const env = { ...(await stackEnv(stateDir)), VAPORA_WORKFLOW_STACK_TRACES: 'true' };
    const workflows = (type: string) =>
      (
        JSON.parse(
          execFileSync(
            temporalCli,
            ['workflow', 'list', '--address', env.TEMPORAL_ADDRESS, '--query', `WorkflowType='${type}'`, '-o', 'json'],
            { encoding: 'utf8' },
          ),
        ) as unknown[]
      ).length;
    const cli = async (...args: string[]) => vapora(args, env);
    const agents = async () => JSON.parse((await cli('agent', 'list', '--json')).stdout) as AgentView[];

    // In a process group of its own, as a terminal or systemd would run it, to be stopped the way they stop it.
    const first = await vaporaUntilJson<Ready>(['up', '--json'], env, 240_000, { detached: true });
    try {
      assert.equal(first.first.status, 'ready');
      assert.deepEqual(first.first.started, ['temporal', 'nats', 'worker']);
      assert.equal(first.first.surreal, `surrealkv://${join(stateDir, 'registry')}`);
      assert.equal(workflows('stackCheckWorkflow'), 1);
      assert.equal(workflows('agentPoolWorkflow'), 13);
      // The Web UI's "Stack Trace" tab (the `__stack_trace` query) shows where the developers' pool waits.
      const connection = await temporalConnection({ address: env.TEMPORAL_ADDRESS });
      const pool = new Client({ connection, dataConverter: testConverter() }).workflow.getHandle('pool-developer');
      assert.match(await pool.query<string>('__stack_trace'), /agentPoolWorkflow/);
      await connection.close();
      assert.equal((await fetch(first.first.webUi!)).status, 200);

      const team = await agents();
      assert.deepEqual(team.map((a) => a.role).sort(), [...AGENT_ROLES].sort());
      assert.ok(
        team.every((a) => a.status === 'Active'),
        JSON.stringify(team.map((a) => [a.id, a.status])),
      );
      for (const a of team)
        assert.deepEqual(agentProcesses(`${a.id}`), [Number(a.instance!.pod_id.replace('pid-', ''))]);
      assert.equal((JSON.parse((await cli('agent', 'available', '--json')).stdout) as unknown[]).length, 13);

      const scaled = JSON.parse((await cli('agent', 'scale', 'developer', '3', '--json')).stdout) as {
        agents: string[];
      };
      assert.deepEqual(scaled.agents, ['developer-001', 'developer-002', 'developer-003']);
      assert.equal(agentProcesses('developer-').length, 3);
      assert.equal((await cli('agent', 'scale', 'developer', '1')).code, 0);
      assert.equal(agentProcesses('developer-').length, 1);

      const shown = JSON.parse((await cli('agent', 'show', 'developer-001', '--json')).stdout) as {
        lifecycle: { phase: string };
        dependents: string[];
      };
      assert.equal(shown.lifecycle.phase, 'watching');
      assert.deepEqual(shown.dependents, ['code-reviewer', 'documenter', 'presenter']);

      const refused = await cli('agent', 'uninstall', 'architect');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /refused: developer, presenter depend on architect/);
      const badScale = await cli('agent', 'scale', 'developer', 'many');
      assert.equal(badScale.code, 1);
      assert.match(badScale.stderr, /N: must be a whole number \(got "many"\)/);
      const unknown = await cli('agent', 'scale', 'wizard', '2');
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /wizard is not installed/);
      const badFile = join(tempDir('manifests'), 'bad.yaml');
      writeFileSync(badFile, 'id: bad agent\nversion: one\nrole: wizard\ndocker_image: Not An Image\n');
      const rejected = await cli('agent', 'install', badFile);
      assert.equal(rejected.code, 1);
      for (const field of ['id', 'version', 'role', 'docker_image', 'resources', 'capabilities'])
        assert.match(rejected.stderr, new RegExp(`bad\\.yaml: ${field}: `));

      // Logs are one JSON stream per process: Vapora's lines and the Temporal SDK's, with who is speaking.
      const logLines = (file: string) =>
        readFileSync(join(stateDir, 'logs', file), 'utf8')
          .split('\n')
          .flatMap((l): Record<string, unknown>[] =>
            l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : [],
          );
      const plane = logLines('worker.log');
      assert.ok(plane.some((l) => l.component === 'control-plane' && l.msg === 'worker ready'));
      assert.ok(
        plane.some((l) => l.sdkComponent === 'worker' && l.taskQueue === 'vapora' && l.msg === 'Worker state changed'),
      );
      assert.ok(
        logLines('agents/developer-001.log').some((l) => l.agentId === 'developer-001' && l.msg === 'agent ready'),
      );

      // With no LLM key set, the offline model answers and every place a person looks says so.
      const doctor = JSON.parse((await cli('doctor', '--json')).stdout) as {
        checks: { check: string; status: string; fix?: string }[];
      };
      const llm = doctor.checks.find((c) => c.check === 'llm');
      assert.equal(llm?.status, 'offline');
      assert.match(llm?.fix ?? '', /ANTHROPIC_API_KEY to use claude-/);
      const run = await cli(
        'feature',
        'start',
        'Offline check',
        '--id',
        'offline-check',
        '--no-approval',
        '--developers',
        '1',
        '--wait',
      );
      assert.equal(run.code, 0, run.stderr);
      const offline = 'offline model (no ANTHROPIC_API_KEY; set it to use claude-sonnet-4-5)';
      assert.match(
        run.stderr,
        /dev-1 +10% step 1: asking offline model \(no ANTHROPIC_API_KEY; set it to use claude-sonnet-4-5\)\n/,
      );
      // Each tool call shows live, and the developer's files are in the feature's workspace.
      assert.match(run.stderr, /dev-1 +\d+% step 2: write_file src\/offline-check\.ts\n/);
      const diff = await cli('feature', 'diff', 'offline-check', '--stat');
      assert.equal(diff.code, 0, diff.stderr);
      assert.match(diff.stdout, /src\/offline-check\.ts +\+4 +-0/);
      assert.match(diff.stdout, /test\/offline-check\.test\.ts/);
      assert.doesNotMatch(run.stderr, /asking claude/);
      const tasks = JSON.parse((await cli('task', 'list', '--feature', 'offline-check', '--json')).stdout) as {
        id: string;
        llm?: string;
      }[];
      assert.equal(tasks.find((t) => t.id === 'offline-check-dev-1')?.llm, offline);

      // The front door: one task handed to the dispatcher, assigned at once and followed to its end.
      const submitted = await cli(
        'task',
        'submit',
        '--role',
        'documenter',
        '--title',
        'Document the CSV export',
        '--id',
        'csv-docs',
        '--priority',
        'high',
        '--deadline',
        '10m',
        '--wait',
        '--json',
      );
      assert.equal(submitted.code, 0, submitted.stderr);
      const printed = submitted.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(printed[0], {
        task_id: 'csv-docs',
        workflow_id: 'task-csv-docs',
        agent_id: 'documenter-001',
        run_id: printed[0]!.run_id,
        web_ui: printed[0]!.web_ui,
      });
      assert.match(String(printed[0].run_id), /^[0-9a-f-]{36}$/, 'the run it started, which --wait follows');
      const outcome = printed.at(-1) as { status: string; agent_id: string; result: { summary: string } };
      assert.equal(outcome.status, 'completed');
      assert.equal(outcome.agent_id, 'documenter-001');
      assert.ok(outcome.result.summary);
      const recorded = JSON.parse((await cli('task', 'list', '--status', 'completed', '--json')).stdout) as {
        id: string;
        priority: string;
      }[];
      assert.equal(recorded.find((t) => t.id === 'csv-docs')?.priority, 'high');
      for (const [args, error] of [
        [['--role', 'wizard', '--title', 'x'], /--role: /],
        [['--role', 'tester', '--title', 'x', '--deadline', 'soon'], /--deadline: must be seconds or a duration/],
        [['--role', 'tester', '--title', 'x', '--priority', 'urgent'], /--priority: /],
        [['--role', 'tester', '--title', 'x', '--id', 'a b'], /--id: /],
      ] as const) {
        const refused = await cli('task', 'submit', ...args);
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(refused.stderr, error);
      }

      // Secured by default: NATS admits only the credentials the stack issued (the control plane's here).
      await assert.rejects(connect({ servers: env.NATS_URL, reconnect: false }), /Authorization Violation/);
      const bus = await EventBus.connect({
        ...loadConfig(env).nats,
        credsFile: join(stateDir, 'nats-auth', 'control-plane.creds'),
      });
      await bus.publish(
        {
          type: 'TaskStarted',
          task_id: 'task-before-restart',
          agent_id: 'developer-001',
          timestamp: new Date().toISOString(),
        },
        'before-restart',
      );
      await bus.close();
    } finally {
      // What a closing terminal, `kill -- -PGID` or systemd does: every process of the group gets SIGTERM at once.
      process.kill(-first.child.pid!, 'SIGTERM');
    }
    assert.equal(
      await within(exited(first.child), STOP_BOUND_MS, 'vapora up to stop after SIGTERM to its process group'),
      0,
      first.stderr(),
    );
    assert.match(first.stderr(), /stopping 13 agent processes of this stack/);
    assert.doesNotMatch(first.stderr(), /restarting/, 'nothing is restarted once stopping');
    for (const [name, pid] of Object.entries(first.first.pids))
      assert.equal(isAlive(pid), false, `${name} (pid ${pid}) outlived vapora up`);
    assert.deepEqual(
      AGENT_ROLES.flatMap((role) => agentProcesses(`${role}-0`)),
      [],
      'no agent process outlives vapora up',
    );

    const second = await vaporaUntilJson<Ready>(['up', '--json'], env, 240_000);
    try {
      // One by the first start, one by `vapora doctor`, one by this start.
      assert.equal(workflows('stackCheckWorkflow'), 3, 'Temporal history survives a restart');
      // The CLI's credentials, found in the state directory.
      const bus = await EventBus.connect(loadConfig(env).nats, { manageStreams: false });
      const kept: (string | undefined)[] = [];
      for await (const e of bus.events({ subject: subjectsOf('TaskStarted') })) kept.push(e.msgId);
      await bus.close();
      assert.deepEqual(
        kept.filter((k) => k === 'before-restart' || k?.startsWith('offline-check-dev-1/')),
        ['offline-check-dev-1/started/1', 'before-restart'],
        'the JetStream store survives a restart',
      );
      const back = await eventually(
        'the team restarted by its lifecycles',
        async () => {
          const now = await agents();
          return (
            now.length === 13 && now.every((a) => a.status === 'Active' && (a.instance?.restart_count ?? 0) >= 1) && now
          );
        },
        120_000,
        1000,
      );
      assert.equal(back.length, 13);
    } finally {
      // Nobody can catch SIGKILL: what vapora up started must notice it is gone.
      second.child.kill('SIGKILL');
    }
    await eventually(
      'the agents to exit by themselves',
      async () => AGENT_ROLES.flatMap((role) => agentProcesses(`${role}-0`)).length === 0,
      60_000,
      500,
    );
    await eventually('the worker to exit by itself', async () => !isAlive(second.first.pids.worker!), 60_000, 500);

    // The next start stops the servers the killed one left running, and starts its own.
    const third = await vaporaUntilJson<Ready>(['up', '--json', '--no-team'], env, 240_000);
    try {
      for (const name of ['temporal', 'nats']) {
        assert.match(
          third.stderr(),
          new RegExp(
            `stopping ${name} \\(pid ${second.first.pids[name]}\\), left running by a vapora up that did not stop`,
          ),
        );
        assert.equal(isAlive(second.first.pids[name]!), false);
      }
    } finally {
      third.child.kill('SIGTERM');
    }
    assert.equal(await exited(third.child), 0, third.stderr());
    const checks = registryProcess(third.first.surreal, 'main', 'knowledge', 'stack-check') as string[];
    assert.equal(checks.length, 4, 'the registry kept the entry of each check: three starts and one doctor');
  });

  it('--observability: Prometheus scrapes every part of the stack, Jaeger holds its traces, and both stop with it', async () => {
    const env = { ...(await stackEnv(tempDir('up-observed'))), VAPORA_PROMETHEUS_PORT: String(await freePort()) };
    // Jaeger is built on first use (vapora provision --observability builds it ahead in CI).
    const up = await vaporaUntilJson<Ready>(['up', '--json', '--observability'], env, 600_000, { detached: true });
    try {
      assert.deepEqual(up.first.started, ['temporal', 'nats', 'jaeger', 'worker', 'prometheus']);
      const prometheus = up.first.prometheus!;
      assert.equal(prometheus, `http://127.0.0.1:${env.VAPORA_PROMETHEUS_PORT}`);
      const query = (promql: string) => promQuery(prometheus, promql);

      // Every job of the generated configuration, the 13 agents found through the file the control plane keeps.
      const jobs = await eventually(
        'every target up',
        async () => {
          const up = await query('up');
          const byJob: Record<string, number> = {};
          for (const s of up) byJob[s.metric.job!] = (byJob[s.metric.job!] ?? 0) + 1;
          return (
            up.every((s) => s.value[1] === '1') &&
            byJob['vapora-agents'] === 13 &&
            Object.keys(byJob).length === 5 &&
            byJob
          );
        },
        120_000,
        1000,
      );
      assert.deepEqual(jobs, {
        'vapora-control-plane': 1,
        'temporal-sdk': 1,
        'temporal-server': 1,
        'nats-server': 1,
        'vapora-agents': 13,
      });
      // nats-server's numbers, exported by the control plane: traffic, and the shared-context consumer's backlog.
      assert.ok(firstValue(await query('nats_server_messages_received_total')) > 0);
      // The control plane and 13 agents, once a scrape has seen them all connected.
      await eventually(
        '14 NATS connections',
        async () => firstValue(await query('nats_server_connections')) >= 14,
        60_000,
        1000,
      );
      assert.deepEqual(
        (await query('nats_jetstream_consumer_pending{stream="vapora_context"}')).map((s) => s.value[1]),
        ['0'],
      );
      // The Temporal dev server's own, and the SDK's.
      assert.ok((await query('{job="temporal-server", __name__=~".+_latency_bucket"}')).length > 0);
      assert.ok((await query('{job="temporal-sdk", __name__=~"temporal_.+"}')).length > 0);

      // The stack check's workflow, traced by the control plane, reached Jaeger. Searched for by its operation, as
      // in the UI: the plane's own boot (a trace per dispatcher shard) and the team's install may leave it outside
      // the most recent 50 traces.
      const ui = up.first.jaeger!.ui;
      const operations = await eventually(
        "the stack check's trace in Jaeger",
        async () => {
          const search = new URLSearchParams({
            service: 'vapora-control-plane',
            operation: 'RunWorkflow:stackCheckWorkflow',
            limit: '50',
          });
          const response = await fetch(`${ui}/api/traces?${search}`);
          const { data } = (await response.json()) as { data: { spans: { operationName: string }[] }[] | null };
          const names = (data ?? []).flatMap((t) => t.spans.map((s) => s.operationName));
          return names.includes('RunWorkflow:stackCheckWorkflow') && names;
        },
        60_000,
        1000,
      );
      // One trace from the workflow down to its activities and the NATS publish they made.
      for (const span of [
        'RunActivity:shareKnowledge',
        'RunActivity:publishMessage',
        'publish vapora.agent.heartbeat.control-plane',
      ])
        assert.ok(operations.includes(span), `${span} missing from ${operations.join(', ')}`);
    } finally {
      up.child.kill('SIGINT');
    }
    assert.equal(await within(exited(up.child), STOP_BOUND_MS, 'stopping'), 0, up.stderr());
    for (const name of ['jaeger', 'prometheus'])
      assert.equal(isAlive(up.first.pids[name]!), false, `${name} (pid ${up.first.pids[name]}) outlived vapora up`);
  });

  it('names the port and the variable when a port is taken, and starts nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const result = await vapora(['up'], {
        VAPORA_STATE_DIR: tempDir('up-taken'),
        TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
        TEMPORAL_UI_PORT: String(taken),
        NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      });
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`port ${taken} \\(Temporal Web UI\\) is already in use.*TEMPORAL_UI_PORT`),
      );
      assert.doesNotMatch(result.stderr, /starting/);
    } finally {
      blocker.close();
    }
  });

  it('refuses a bad variable before starting anything', async () => {
    const result = await vapora(['up'], { VAPORA_STATE_DIR: tempDir('up-bad'), NATS_URL: 'http://localhost:4222' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid environment:\n\s+- NATS_URL: must be nats:\/\/host:port/);
  });
});
