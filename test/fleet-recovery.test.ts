import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, AgentManifest } from '../src/domain';
import { installPool } from '../src/client/pool-client';
import { poolWorkflowId } from '../src/contracts/workflow-ids';
import { lifecycleStatusQuery, uninstallPoolUpdate } from '../src/contracts/fleet';
import { agentProcesses, eventually, fastManifest } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { unique } from './support/servers';

describe('fleet recovery', () => {
  it('converges after the control-plane worker is killed while an agent is being restarted', async () => {
    const plane = await planeProcess('recovery');
    const { client, registry, taskQueue } = plane;
    const manifestId = unique('rec').replace(/-/g, '').slice(0, 14);
    const agentId = `${manifestId}-001`;
    plane.start();
    try {
      await installPool(client, taskQueue, {
        manifestId,
        replicas: 1,
        manifest: parse(AgentManifest, fastManifest(manifestId), 'manifest'),
      });
      const before = await eventually('the agent registered', async () => (await registry.agent(agentId))?.instance);
      process.kill(Number(before.pod_id.replace('pid-', '')), 'SIGKILL');

      const lifecycle = client.workflow.getHandle(`agent-${agentId}`);
      await eventually(
        'the restart to begin',
        async () => (await lifecycle.query(lifecycleStatusQuery)).phase === 'restarting',
        30_000,
        20,
      );
      await plane.kill('SIGKILL');
      plane.start();

      const after = await eventually(
        'the agent Active again on a new process',
        async () => {
          const view = await registry.agent(agentId);
          return view?.status === 'Active' && view.instance && view.instance.pod_id !== before.pod_id && view.instance;
        },
        90_000,
      );
      const pid = Number(after.pod_id.replace('pid-', ''));
      await eventually(
        'exactly one process for the agent',
        async () => JSON.stringify(agentProcesses(agentId)) === JSON.stringify([pid]),
        30_000,
      );
      assert.ok(after.restart_count >= 1);
      assert.equal((await lifecycle.query(lifecycleStatusQuery)).phase, 'watching');
      // Begun with this release's patch level: starting its instance's lifecycle asked no patched().
      const pool = await client.workflow.getHandle(poolWorkflowId(manifestId)).fetchHistory();
      assert.deepEqual(
        pool.events?.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch'),
        [],
      );
    } finally {
      await client.workflow
        .getHandle(poolWorkflowId(manifestId))
        .executeUpdate(uninstallPoolUpdate, { args: [{ force: true }] })
        .catch(() => undefined);
      await plane.close();
    }
    assert.deepEqual(agentProcesses(agentId), []);
  });
});
