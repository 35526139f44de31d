import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, AgentManifest } from '../src/domain';
import { agentEnv, loadConfig } from '../src/config';
import { ApiAuth } from '../src/control-plane/api-auth';
import { ProcessDeployer, readRecord } from '../src/deploy/process-deployer';
import { installPool } from '../src/client/pool-client';
import { poolWorkflowId } from '../src/contracts/workflow-ids';
import { lifecycleStatusQuery, uninstallPoolUpdate } from '../src/contracts/fleet';
import { agentProcesses, eventually, fastManifest } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { unique } from './support/servers';

/** Uninstalls the test's pool, forced, and closes its plane: no agent process may outlive the test. */
async function uninstall(plane: Awaited<ReturnType<typeof planeProcess>>, manifestId: string): Promise<void> {
  await plane.client.workflow
    .getHandle(poolWorkflowId(manifestId))
    .executeUpdate(uninstallPoolUpdate, { args: [{ force: true }] })
    .catch(() => undefined);
  await plane.close();
}

/** A plane process with one pool of one instance, for `body`; no agent process may outlive it. */
async function withOneAgent(
  name: string,
  body: (plane: Awaited<ReturnType<typeof planeProcess>>, agentId: string, manifestId: string) => Promise<void>,
): Promise<void> {
  const plane = await planeProcess(name);
  const manifestId = unique(name.slice(0, 3)).replace(/-/g, '').slice(0, 14);
  const agentId = `${manifestId}-001`;
  plane.start();
  try {
    await installPool(plane.client, plane.taskQueue, {
      manifestId,
      replicas: 1,
      manifest: parse(AgentManifest, fastManifest(manifestId), 'manifest'),
    });
    await body(plane, agentId, manifestId);
  } finally {
    await uninstall(plane, manifestId);
  }
  assert.deepEqual(agentProcesses(agentId), []);
}

describe('fleet recovery', () => {
  it('converges after the control-plane worker is killed while an agent is being restarted', async () => {
    await withOneAgent('recovery', async (plane, agentId, manifestId) => {
      const { client, registry } = plane;
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
    });
  });

  it("brings a killed control plane's health watches back with the next one, well before their heartbeat timeout", async () => {
    await withOneAgent('rewatch', async (plane, agentId) => {
      const { client, registry } = plane;
      const lifecycle = client.workflow.getHandle(`agent-${agentId}`);
      const before = await eventually('the agent Active and watched', async () => {
        const view = await registry.agent(agentId);
        const { phase } = await lifecycle.query(lifecycleStatusQuery);
        return view?.status === 'Active' && phase === 'watching' && view.instance;
      });
      // The watch dies with its worker, and the agent with nobody left to see it: the server would notice the watch
      // gone only after its heartbeat timeout (five minutes at least).
      await plane.kill('SIGKILL');
      process.kill(Number(before.pod_id.replace('pid-', '')), 'SIGKILL');
      plane.start();
      await eventually(
        'the agent restarted by a new watch',
        async () => {
          const view = await registry.agent(agentId);
          return view?.status === 'Active' && view.instance && view.instance.pod_id !== before.pod_id;
        },
        40_000,
      );
      const events = (await lifecycle.fetchHistory()).events ?? [];
      assert.equal(
        events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'watchAgain').length,
        1,
      );
    });
  });

  it('stops an agent process that another instance replaced, which its killed control plane left behind', async () => {
    // The chaos run's finding: a control plane killed as it restarted an agent left the instance it had just started
    // running, unrecorded; the next plane started another in its place, and the first served on, unseen, for 26 minutes.
    const plane = await planeProcess('replaced');
    const { client, registry, taskQueue, stateDir } = plane;
    const manifestId = unique('rep').replace(/-/g, '').slice(0, 14);
    const agentId = `${manifestId}-001`;
    const manifest = parse(AgentManifest, fastManifest(manifestId), 'manifest');
    plane.start();
    try {
      await installPool(client, taskQueue, { manifestId, replicas: 1, manifest });
      const first = await eventually('the agent registered', async () => (await registry.agent(agentId))?.instance);
      const firstPid = Number(first.pod_id.replace('pid-', ''));
      // What that plane left: no record of the first instance, and a deployer starting another in its place.
      rmSync(join(stateDir, 'agents', `${agentId}.json`));
      const deployer = new ProcessDeployer({
        stateDir,
        env: agentEnv(loadConfig(plane.env)),
        tokenFor: (id) => ApiAuth.of(stateDir).agentToken(id),
      });
      // Not awaited: once the first instance stops, its lifecycle restarts the agent, which may stop this one still starting.
      const deploying = deployer.deploy({ agentId, manifest }).catch(() => undefined);
      const record = join(stateDir, 'agents', `${agentId}.json`);
      const secondPid = await eventually('the second instance recorded', async () => readRecord(record)?.pid);
      await eventually('the first instance to stop by itself', async () => !agentProcesses(agentId).includes(firstPid));
      const log = readFileSync(join(stateDir, 'logs', 'agents', `${agentId}.log`), 'utf8');
      assert.match(log, new RegExp(`"pid":${firstPid}.*names another instance \\(pid ${secondPid}\\)`));
      await deploying;
      // Its lifecycle saw the instance it watched go, and restarted it: one process again, Active.
      await eventually(
        'exactly one process for the agent, Active',
        async () => agentProcesses(agentId).length === 1 && (await registry.agent(agentId))?.status === 'Active',
        90_000,
      );
    } finally {
      await uninstall(plane, manifestId);
    }
    assert.deepEqual(agentProcesses(agentId), []);
  });
});
