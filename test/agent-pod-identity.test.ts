import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EventBus } from '../src/bus/event-bus';
import { AgentManifest, parse, subjectsOf } from '../src/domain';
import { agentSpecOf } from '../src/contracts/agent-spec';
import { freePort } from '../src/host/ports';
import { PROJECT_ROOT, tsNodeArgs } from '../src/host/project';
import { eventually, fastManifest } from './support/fleet';
import { tempDir, testServers } from './support/servers';

/**
 * The agent worker as a pod runs it (the Kubernetes deployer's template): no
 * agent id in its spec, its identity read from the pod's labels (the downward
 * API file the kubelet writes). Here the file is written by the test.
 */
describe('agent worker in a pod', () => {
  it('is alive but not ready until claimed, then serves as the agent named by its pod label', async () => {
    const { temporalAddress, natsUrl } = testServers();
    const dir = tempDir('pod');
    const labels = join(dir, 'labels');
    const port = await freePort();
    const { agent_id: _none, ...spec } = agentSpecOf(
      'unclaimed',
      parse(AgentManifest, fastManifest('podagent'), 'manifest'),
      port,
    );
    const child = spawn(process.execPath, tsNodeArgs('workers/agent-worker.ts'), {
      cwd: PROJECT_ROOT,
      stdio: 'ignore',
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress,
        NATS_URL: natsUrl,
        VAPORA_AGENT_SPEC: JSON.stringify(spec),
        VAPORA_AGENT_ID_FILE: labels,
      },
    });
    const bus = await EventBus.connect(natsUrl);
    const beats: string[] = [];
    bus.subscribe(subjectsOf('Heartbeat'), (m) => void (m.type === 'Heartbeat' && beats.push(m.agent_id)));
    const health = async (query = '') => {
      const response = await fetch(`http://127.0.0.1:${port}/health${query}`);
      return { code: response.status, body: (await response.json()) as { status: string; agent_id?: string } };
    };
    try {
      await eventually('the health endpoint', () => health('?live'));
      assert.equal((await health('?live')).code, 200, 'liveness passes while unclaimed');
      const unclaimed = await health();
      assert.equal(unclaimed.code, 503, 'not ready while unclaimed');
      assert.equal(unclaimed.body.status, 'Scaling');
      assert.equal(unclaimed.body.agent_id, undefined);

      writeFileSync(
        labels,
        'app.kubernetes.io/managed-by="vapora"\nvapora.dev/agent-id="podagent-007"\nvapora.dev/manifest="podagent"\n',
      );
      const ready = await eventually('ready as podagent-007', async () => {
        const h = await health();
        return h.code === 200 && h.body;
      });
      assert.equal(ready.agent_id, 'podagent-007');
      assert.equal(ready.status, 'Active');
      await eventually('a heartbeat from podagent-007', async () => beats.includes('podagent-007'), 10_000);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      await bus.close();
    }
  });
});
