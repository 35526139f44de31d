import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { RegistryClient } from '../src/api/registry-client';
import { parse, AgentManifest } from '../src/domain';
import { installPool, poolId } from '../src/fleet/pool-client';
import { freePort } from '../src/stack/ports';
import { PROJECT_ROOT, tsNodeArgs } from '../src/stack/project';
import { lifecycleStatus, uninstallPool } from '../workflows';
import { agentProcesses, eventually, fastManifest } from './support/fleet';
import { tempDir, testServers, unique } from './support/servers';

describe('fleet recovery', () => {
  it('converges after the control-plane worker is killed while an agent is being restarted', async () => {
    const { temporalAddress, natsUrl } = testServers();
    const stateDir = tempDir('recovery');
    const taskQueue = unique('recovery');
    const apiPort = await freePort();
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      NATS_URL: natsUrl,
      VAPORA_STATE_DIR: stateDir,
      VAPORA_TASK_QUEUE: taskQueue,
      VAPORA_API_PORT: String(apiPort),
      SURREAL_URL: `surrealkv://${join(stateDir, 'registry')}`,
    };
    const startPlane = () => spawn(process.execPath, tsNodeArgs('workers/control-plane.ts'), { cwd: PROJECT_ROOT, env, stdio: 'ignore' });
    const registry = new RegistryClient(`http://127.0.0.1:${apiPort}`);
    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection });
    const manifestId = unique('rec').replace(/-/g, '').slice(0, 14);
    const agentId = `${manifestId}-001`;
    let plane: ChildProcess = startPlane();
    try {
      await installPool(client, taskQueue, { manifestId, replicas: 1, manifest: parse(AgentManifest, fastManifest(manifestId), 'manifest') });
      const before = await eventually('the agent registered', async () => (await registry.agent(agentId))?.instance);
      process.kill(Number(before.pod_id.replace('pid-', '')), 'SIGKILL');

      const lifecycle = client.workflow.getHandle(`agent-${agentId}`);
      await eventually('the restart to begin', async () => (await lifecycle.query(lifecycleStatus)).phase === 'restarting', 30_000, 20);
      plane.kill('SIGKILL');
      await new Promise((r) => plane.once('exit', r));
      plane = startPlane();

      const after = await eventually('the agent Active again on a new process', async () => {
        const view = await registry.agent(agentId);
        return view?.status === 'Active' && view.instance && view.instance.pod_id !== before.pod_id && view.instance;
      }, 90_000);
      const pid = Number(after.pod_id.replace('pid-', ''));
      await eventually('exactly one process for the agent', async () => JSON.stringify(agentProcesses(agentId)) === JSON.stringify([pid]), 30_000);
      assert.ok(after.restart_count >= 1);
      assert.equal((await lifecycle.query(lifecycleStatus)).phase, 'watching');
    } finally {
      await client.workflow.getHandle(poolId(manifestId)).executeUpdate(uninstallPool, { args: [{ force: true }] }).catch(() => undefined);
      plane.kill('SIGTERM');
      await new Promise((r) => (plane.exitCode !== null ? r(null) : plane.once('exit', r)));
      await connection.close();
    }
    assert.deepEqual(agentProcesses(agentId), []);
  });
});
