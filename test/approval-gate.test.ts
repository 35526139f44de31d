import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createApprovalActivities } from '../activities/approval';
import { signVerdict } from '../src/client/approval-client';
import { approveSignal, approveUpdate } from '../src/contracts/messages';
import { ApiAuth } from '../src/control-plane/api-auth';
import type { gateThenStep } from './workflows/gate-then-step';
import { tempDir, testConverter, testServers, unique } from './support/servers';

const { temporalAddress } = testServers();

describe('approval gate (found by the chaos run: runs that no worker could replay)', () => {
  it('replays as it ran when a signal and an Update reach the gate in one workflow task, the seal checked locally', async () => {
    const auth = ApiAuth.of(tempDir('gate'));
    const taskQueue = unique('gate');
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./workflows/gate-then-step.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const connection = await NativeConnection.connect({ address: temporalAddress });
    const clientConnection = await Connection.connect({ address: temporalAddress });
    const client = new Client({
      connection: clientConnection,
      dataConverter: testConverter(),
    });
    const worker = () =>
      Worker.create({
        connection,
        taskQueue,
        workflowBundle,
        dataConverter: testConverter(),
        activities: { ...createApprovalActivities(auth), nextStep: async () => null },
      });
    const workflowId = unique('gate');
    const handle = await client.workflow.start<typeof gateThenStep>('gateThenStep', { taskQueue, workflowId });
    // Up to the gate, then no worker: what comes next waits on the server and arrives in one workflow task.
    const first = await worker();
    await first.runUntil(async () => {
      while ((await handle.describe()).historyLength < 5) await new Promise((r) => setTimeout(r, 50));
    });
    const sealed = signVerdict(workflowId, { approve: { by: 'hana' } }, auth.personToken('hana')).approve;
    // A plain signal (as the Web UI sends) applies at once; the sealed Update is checked by a local activity meanwhile.
    await handle.signal(approveSignal, { by: 'ivan', comment: '' });
    const update = handle.executeUpdate(approveUpdate, { args: [sealed] });
    await new Promise((r) => setTimeout(r, 500));
    const records = await (
      await worker()
    ).runUntil(async () => {
      await update;
      return handle.result();
    });
    assert.deepEqual(
      records.map((r) => [r.via, r.applied, r.ignored]),
      [
        ['signal', true, undefined],
        ['update', false, 'an approval was already given'],
      ],
    );
    await Worker.runReplayHistory(
      { workflowBundle, dataConverter: testConverter() },
      await handle.fetchHistory(),
      workflowId,
    );
    await Promise.all([connection.close(), clientConnection.close()]);
  });
});
