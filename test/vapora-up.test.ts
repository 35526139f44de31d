import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EventBus } from '../src/bus/event-bus';
import { freePort } from '../src/stack/ports';
import type { Endpoints } from '../src/stack/dev-stack';
import { exited, isAlive, vapora, vaporaUntilJson } from './support/cli';
import { registryProcess } from './support/registry-process-client';
import { tempDir, testServers } from './support/servers';

type Ready = Endpoints & { status: string; pids: Record<string, number> };

describe('vapora up', () => {
  it('brings the whole stack up, stops it cleanly, and resumes with its state', async () => {
    const { temporalCli } = testServers();
    const stateDir = tempDir('up');
    const env = {
      VAPORA_STATE_DIR: stateDir,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_UI_PORT: String(await freePort()),
      NATS_URL: `nats://127.0.0.1:${await freePort()}`,
    };
    const workflows = () =>
      (JSON.parse(execFileSync(temporalCli, ['workflow', 'list', '--address', env.TEMPORAL_ADDRESS, '-o', 'json'], { encoding: 'utf8' })) as { type: { name: string } }[]).map(
        (w) => w.type.name,
      );

    const first = await vaporaUntilJson<Ready>(['up', '--json'], env, 180_000);
    try {
      assert.equal(first.first.status, 'ready');
      assert.deepEqual(first.first.started, ['temporal', 'nats', 'worker']);
      assert.equal(first.first.surreal, `surrealkv://${join(stateDir, 'registry')}`);
      assert.deepEqual(workflows(), ['stackCheckWorkflow']);
      const ui = await fetch(first.first.webUi!);
      assert.equal(ui.status, 200);
      const bus = await EventBus.connect(env.NATS_URL);
      await bus.publish({ type: 'TaskStarted', task_id: 'task-before-restart', agent_id: 'developer-001', timestamp: new Date().toISOString() }, 'before-restart');
      await bus.close();
    } finally {
      first.child.kill('SIGTERM');
    }
    assert.equal(await exited(first.child), 0, first.stderr());
    assert.match(first.stderr(), /stopped\./);
    for (const [name, pid] of Object.entries(first.first.pids)) assert.equal(isAlive(pid), false, `${name} (pid ${pid}) outlived vapora up`);

    const second = await vaporaUntilJson<Ready>(['up', '--json'], env, 180_000);
    try {
      assert.deepEqual(workflows(), ['stackCheckWorkflow', 'stackCheckWorkflow'], 'Temporal history survives a restart');
      const bus = await EventBus.connect(env.NATS_URL);
      const kept = [];
      for await (const e of bus.events({ subject: 'vapora.tasks.started' })) kept.push(e.msgId);
      await bus.close();
      assert.deepEqual(kept, ['before-restart'], 'the JetStream store survives a restart');
    } finally {
      second.child.kill('SIGTERM');
    }
    assert.equal(await exited(second.child), 0, second.stderr());
    const checks = registryProcess(second.first.surreal, 'main', 'knowledge', 'stack-check') as string[];
    assert.equal(checks.length, 2, 'the registry kept the entry of each run');
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
      assert.match(result.stderr, new RegExp(`port ${taken} \\(Temporal Web UI\\) is already in use.*TEMPORAL_UI_PORT`));
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
