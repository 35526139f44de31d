import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateStage } from '@temporalio/client';
import { stringify } from 'yaml';
import { EventBus } from '../src/bus/event-bus';
import { installPool } from '../src/client/pool-client';
import { submitTask } from '../src/client/task-client';
import { poolStatusQuery, upgradePoolUpdate, type UpgradeResult } from '../src/contracts/fleet';
import type { ManifestHistory } from '../src/contracts/registry-api';
import { poolWorkflowId } from '../src/contracts/workflow-ids';
import { AgentManifest, SUBJECTS, parse, statusLabel, type AgentManifestInput } from '../src/domain';
import { DefaultAgentCardResolver } from '@a2a-js/sdk/client';
import { AgentCard } from '../src/contracts/agent-card';
import { vapora } from './support/cli';
import { agentProcesses, eventually, fastManifest, uninstallPools } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { testServers, unique } from './support/servers';

describe('rolling upgrades (the control plane and its agents as processes)', () => {
  const manifestId = unique('upg').replace(/-/g, '').slice(0, 14);
  let plane: Awaited<ReturnType<typeof planeProcess>>;
  let bus: EventBus;
  const at = (version: string, overrides: Partial<AgentManifestInput> = {}) =>
    fastManifest(manifestId, { version, docker_image: `vapora/agents:${manifestId}-${version}`, ...overrides });
  const manifestFile = (name: string, manifest: AgentManifestInput) => {
    const file = join(plane.stateDir, `${name}.yaml`);
    writeFileSync(file, stringify(manifest));
    return file;
  };
  const cli = (...args: string[]) => vapora(['agent', ...args], plane.env);
  const pool = () => plane.client.workflow.getHandle(poolWorkflowId(manifestId)).query(poolStatusQuery);
  const versionsRunning = async () =>
    (await plane.registry.agents())
      .filter((a) => a.manifest_id === manifestId)
      .map((a) => `${a.id}@${a.version}:${typeof a.status === 'string' ? a.status : 'Error'}`)
      .sort();
  /** Submits tasks one after another (eight at a time) until `until` settles; every one must complete. */
  const tasksDuring = async (until: Promise<unknown>) => {
    let done = false;
    void until.finally(() => (done = true)).catch(() => undefined);
    const outcomes: { agent?: string; status: string; at: number }[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!done) {
          const task_id = unique('ut');
          const { workflow_id } = await submitTask(plane.client, plane.taskQueue, {
            task_id,
            role: 'developer',
            title: 'Work through the upgrade',
          });
          const outcome = await plane.client.workflow.getHandle(workflow_id).result();
          outcomes.push({ agent: outcome.agent_id, status: outcome.status, at: Date.now() });
        }
      }),
    );
    return outcomes;
  };

  before(async () => {
    plane = await planeProcess('upgrade');
    plane.start();
    bus = await EventBus.connect(testServers().natsUrl);
    await installPool(plane.client, plane.taskQueue, {
      manifestId,
      replicas: 3,
      manifest: parse(AgentManifest, at('0.1.0'), 'manifest'),
    });
  });
  after(async () => {
    await uninstallPools(plane.client, [manifestId, 'documenter', 'developer', 'architect']);
    await bus.close();
    await plane.close();
    assert.deepEqual(agentProcesses(`${manifestId}-`), [], 'no agent process outlives the pool');
  });

  it('rolls a pool of 3 from 0.1.0 to 0.2.0 while tasks run: every task completes, old instances drain as Updating', async () => {
    const statuses: string[] = [];
    const watch = bus.subscribe(SUBJECTS.AgentStatusChanged, (m) => {
      if (m.type === 'AgentStatusChanged' && m.agent_id.startsWith(manifestId))
        statuses.push(`${m.agent_id}:${statusLabel(m.to)}`);
    });
    const upgrade = cli('upgrade', manifestId, '--file', manifestFile('v2', at('0.2.0')), '--json');
    const outcomes = await tasksDuring(upgrade);
    const { code, stdout, stderr } = await upgrade;
    watch.unsubscribe();
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as UpgradeResult;
    assert.equal(result.from, '0.1.0');
    assert.equal(result.to, '0.2.0');
    assert.equal(result.replaced, 3);
    // Each old instance's replacement takes the lowest free number: 004 first, then those the drained ones left.
    assert.deepEqual(result.pool.agents, [`${manifestId}-001`, `${manifestId}-002`, `${manifestId}-004`]);
    assert.deepEqual(Object.values(result.pool.versions!), ['0.2.0', '0.2.0', '0.2.0']);

    assert.ok(outcomes.length >= 8, `tasks ran during the upgrade (${outcomes.length})`);
    assert.deepEqual(
      outcomes.filter((o) => o.status !== 'completed'),
      [],
      'every task submitted during the upgrade completed',
    );
    for (const n of ['001', '002', '003'])
      assert.ok(statuses.includes(`${manifestId}-${n}:Updating`), `${n} drained as Updating: ${statuses.join(', ')}`);
    assert.deepEqual(await versionsRunning(), [
      `${manifestId}-001@0.2.0:Active`,
      `${manifestId}-002@0.2.0:Active`,
      `${manifestId}-004@0.2.0:Active`,
    ]);
    assert.equal(agentProcesses(`${manifestId}-`).length, 3);

    // New work goes to the new version.
    const after = await tasksDuring(new Promise((r) => setTimeout(r, 500)));
    assert.ok(
      after.every((o) => o.status === 'completed' && result.pool.agents.includes(o.agent!)),
      JSON.stringify(after),
    );
  });

  it('rolls back to the running version, with the reason, when a new instance never becomes healthy', async () => {
    // 0.3.0 answers its health checks on a path it does not serve.
    const broken = manifestFile('v3', at('0.3.0', { health_check_endpoint: '/not-health' }));
    const { code, stderr } = await cli('upgrade', manifestId, '--file', broken);
    assert.equal(code, 1);
    assert.match(
      stderr,
      new RegExp(
        `upgrade of ${manifestId} to 0.3.0 rolled back to 0.2.0: ${manifestId}-\\d+ \\(0.3.0\\) did not pass a health check`,
      ),
    );
    const status = await pool();
    assert.equal(status.version, '0.2.0');
    assert.deepEqual(Object.values(status.versions!), ['0.2.0', '0.2.0', '0.2.0']);
    assert.equal(agentProcesses(`${manifestId}-`).length, 3);

    const { stdout } = await cli('history', manifestId, '--json');
    const history = JSON.parse(stdout) as ManifestHistory;
    assert.deepEqual(history.versions, ['0.3.0', '0.2.0', '0.1.0']);
    assert.deepEqual(
      history.upgrades.map((u) => `${u.from_version}→${u.to_version} ${u.outcome}`),
      ['0.1.0→0.2.0 completed', '0.2.0→0.3.0 rolled-back'],
    );
    assert.match(history.upgrades[1]!.reason!, /did not pass a health check/);
  });

  it('refuses an upgrade it cannot make, naming why, and changes nothing', async () => {
    const refused = async (args: string[], pattern: RegExp) => {
      const { code, stderr } = await cli('upgrade', manifestId, ...args);
      assert.equal(code, 1, stderr);
      assert.match(stderr, pattern);
    };
    await refused(['--to', '9.9.9'], /the marketplace has no .* 9\.9\.9; it has 0\.3\.0, 0\.2\.0, 0\.1\.0/);
    await refused(['--to', '0.2.0'], /already runs 0\.2\.0/);
    await refused(['--to', 'latest'], /--to/);
    await refused(['--to', '0.1.0', '--max-unavailable', '-1'], /--max-unavailable/);
    assert.equal((await pool()).version, '0.2.0');
  });

  it('resumes an upgrade after the control plane is killed in the middle, then rolls back to the previous version', async () => {
    const handle = plane.client.workflow.getHandle(poolWorkflowId(manifestId));
    const update = await handle.startUpdate(upgradePoolUpdate, {
      args: [{ to: '0.1.0' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await eventually(
      'the first new instance',
      async () => Object.values((await pool()).versions ?? {}).includes('0.1.0'),
      60_000,
      100,
    );
    await plane.kill('SIGKILL');
    plane.start();
    const result = await update.result();
    assert.equal(result.to, '0.1.0');
    assert.deepEqual(Object.values(result.pool.versions!), ['0.1.0', '0.1.0', '0.1.0']);
    await eventually(
      'three agent processes, all on 0.1.0',
      async () =>
        agentProcesses(`${manifestId}-`).length === 3 &&
        (await versionsRunning()).every((v) => v.includes('@0.1.0:Active')),
      60_000,
    );

    // `rollback` returns to what the last completed upgrade left: 0.2.0.
    const { code, stdout, stderr } = await cli('rollback', manifestId, '--max-unavailable', '3', '--json');
    assert.equal(code, 0, stderr);
    const back = JSON.parse(stdout) as UpgradeResult;
    assert.equal(`${back.from}→${back.to}`, '0.1.0→0.2.0');
    assert.equal(back.replaced, 3);
    assert.equal(agentProcesses(`${manifestId}-`).length, 3);
  });

  it('installs the missing dependencies first, in order, with --with-deps; without it the refusal names that command', async () => {
    const refused = await cli('install', 'documenter');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot install documenter: developer .* is not installed and healthy/);
    assert.match(refused.stderr, /vapora agent install documenter --with-deps/);

    const { code, stdout, stderr } = await cli('install', 'documenter', '--with-deps', '--json');
    assert.equal(code, 0, stderr);
    const pools = JSON.parse(stdout) as { manifestId: string; agents: string[] }[];
    // The catalog's chain: documenter needs developer, which needs architect (whose decision-maker is optional).
    assert.deepEqual(
      pools.map((p) => `${p.manifestId}:${p.agents.join(',')}`),
      ['architect:architect-001', 'developer:developer-001', 'documenter:documenter-001'],
    );
    const active = (await plane.registry.agents()).filter((a) => a.status === 'Active').map((a) => a.id);
    for (const id of ['architect-001', 'developer-001', 'documenter-001']) assert.ok(active.includes(id), id);
  });

  it('each agent serves an A2A agent card that an A2A client resolves, and `vapora agent card` prints it', async () => {
    const agentId = (await pool()).agents[0]!;
    const { instance } = (await plane.registry.agent(agentId))!;
    // Resolved as another agent system would: the A2A SDK's own resolver, at the well-known path.
    const resolved = await new DefaultAgentCardResolver().resolve(`http://${instance!.ip}:${instance!.port}`);
    const card = parse(AgentCard, resolved, 'agent card');
    assert.equal(card.version, '0.2.0');
    assert.match(card.name, new RegExp(`\\(${agentId}\\)$`));
    assert.equal(
      card.supportedInterfaces[0]!.url,
      `temporal://${testServers().temporalAddress}/default/agent-${agentId}`,
    );
    assert.deepEqual(
      card.skills.map((s) => s.id),
      at('0.2.0').capabilities.map((c) => c.id),
    );
    assert.ok(card.skills.every((s) => s.tags.includes('developer')));

    const { code, stdout, stderr } = await cli('card', agentId, '--json');
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), card);
    const missing = await cli('card', 'nobody-001');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no running agent "nobody-001"/);
  });
});
