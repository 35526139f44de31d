/**
 * `npm run record-histories`: runs this release's workflows against real
 * servers, the control plane and the catalog's agents (offline model), and
 * keeps their histories in test/fixtures/histories-<version>.json.gz: a task
 * dispatcher, dispatched tasks approved by Update and by signal, a feature
 * through its approval with its ADR and first developer steps, and a feature
 * waiting at its gate, agent pools (one rolled to a new version) and their
 * instances' lifecycles. test/replay.test.ts replays every release's histories
 * with today's code. Run once per release.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { startTestServers } from './support/test-servers';

const say = (line: string) => process.stderr.write(`[record] ${line}\n`);
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
const target = new URL(`./fixtures/histories-${version.split('.').slice(0, 2).join('.')}.json.gz`, import.meta.url);

const servers = await startTestServers(say);
Object.assign(process.env, servers.env);
const { planeProcess } = await import('./support/plane-process');
const { eventually, uninstallPools } = await import('./support/fleet');
const { installTeam, upgradePool } = await import('../src/client/pool-client');
const { submitTask } = await import('../src/client/task-client');
const { CATALOG_DIR, loadManifests } = await import('../src/marketplace/manifest-loader');
const { approveSignal, approveUpdate, featureStatusQuery, taskStatusQuery, taskDispatcherId } =
  await import('../src/contracts/messages');
const { agentLifecycleWorkflowId, featureWorkflowId, taskWorkflowId, poolWorkflowId } =
  await import('../src/contracts/workflow-ids');

const plane = await planeProcess('record');
plane.start();
const client: Client = plane.client;
const manifests = await installTeam(client, plane.taskQueue, loadManifests(CATALOG_DIR), say);
try {
  const at = async <T extends { pending_approval?: unknown }>(workflowId: string, query: QueryDefinition<T>) =>
    eventually(
      `${workflowId} at its gate`,
      async () => (await client.workflow.getHandle(workflowId).query(query)).pending_approval ?? undefined,
      120_000,
      200,
    );
  const startFeature = (id: string) =>
    client.workflow.start('featureWorkflow', {
      taskQueue: plane.taskQueue,
      workflowId: featureWorkflowId(id),
      args: [{ feature_id: id, title: `Recorded ${id}`, options: { developers: 1 } }],
    });

  say('a feature approved by Update, and one left waiting at its gate');
  const [approved, waiting] = [await startFeature('recorded-approved'), await startFeature('recorded-waiting')];
  await at(approved.workflowId, featureStatusQuery);
  await approved.executeUpdate(approveUpdate, {
    args: [{ by: 'recorder', comment: 'ok' }],
    updateId: 'recorded-approve',
  });
  await approved.result();
  await at(waiting.workflowId, featureStatusQuery);

  say('dispatched tasks, approved by Update and by signal');
  for (const [id, approve] of [
    [
      'recorded-task-update',
      (h: ReturnType<Client['workflow']['getHandle']>) =>
        h.executeUpdate(approveUpdate, { args: [{ by: 'recorder', comment: '' }] }),
    ],
    [
      'recorded-task-signal',
      (h: ReturnType<Client['workflow']['getHandle']>) => h.signal(approveSignal, { by: 'recorder', comment: '' }),
    ],
  ] as const) {
    await submitTask(client, plane.taskQueue, {
      task_id: id,
      role: 'documenter',
      title: `Recorded ${id}`,
      require_approval: true,
    });
    const handle = client.workflow.getHandle(taskWorkflowId(id));
    await at(handle.workflowId, taskStatusQuery);
    await approve(handle);
    await handle.result();
  }

  say('a pool rolled to a new version');
  const presenter = loadManifests(CATALOG_DIR).find((m) => m.id === 'presenter')!;
  await upgradePool(client, 'presenter', { manifest: { ...presenter, version: '0.2.0' } }, say);

  const ids = [
    poolWorkflowId('presenter'),
    agentLifecycleWorkflowId('presenter-001'),
    poolWorkflowId('developer'),
    agentLifecycleWorkflowId('developer-001'),
    approved.workflowId,
    waiting.workflowId,
    taskWorkflowId('recorded-approved-adr'),
    // A developer's step: its LLM and tool calls on the feature's workspace.
    taskWorkflowId('recorded-approved-dev-1'),
    taskWorkflowId('recorded-task-update'),
    taskWorkflowId('recorded-task-signal'),
    taskDispatcherId(plane.taskQueue, 'recorded-task-update'),
  ];
  const stored = Object.fromEntries(
    await Promise.all(
      ids.map(async (id) => {
        const history = await client.workflow.getHandle(id).fetchHistory();
        return [id, Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish()).toString('base64')];
      }),
    ),
  );
  writeFileSync(target, gzipSync(JSON.stringify(stored)));
  say(`${ids.length} histories written to ${target.pathname}`);
} finally {
  await uninstallPools(client, manifests);
  await plane.close();
  await servers.stop(true);
}
process.exit(0);
