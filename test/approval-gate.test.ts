import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type proto from '@temporalio/proto';
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createApprovalActivities } from '../activities/approval';
import { sendVerdict, signVerdict } from '../src/client/approval-client';
import { approveSignal, approveUpdate, GATE_OPENING } from '../src/contracts/messages';
import { ApiAuth } from '../src/control-plane/api-auth';
import { openedAtQuery, type gateThenStep, type stepThenGate } from './workflows/gates';
import { tempDir, testConverter, unique } from './support/servers';
import { testWorkflows } from './support/worker';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('approval gate (found by the chaos run: runs that no worker could replay)', () => {
  const auth = ApiAuth.of(tempDir('gate'));
  const taskQueue = unique('gate');
  let workflowBundle: WorkflowBundleWithSourceMap;
  let connection: NativeConnection;
  let client: Client;
  let close: () => Promise<void>;
  const worker = () =>
    Worker.create({
      connection,
      taskQueue,
      workflowBundle,
      dataConverter: testConverter(),
      activities: { ...createApprovalActivities(auth), nextStep: async () => null },
    });
  /** Runs a worker until the run's history has `events` events, then none: what comes next waits on the server. */
  const runUntilLength = async (handle: WorkflowHandle, events: number) =>
    (await worker()).runUntil(async () => {
      while ((await handle.describe()).historyLength < events) await sleep(50);
    });
  /** The one Update accepted came after the gate's 1 ms timer fired (the step's timer fired first); refused ones left nothing. */
  const takenOnceOpen = async (handle: WorkflowHandle) => {
    const events = (await handle.fetchHistory()).events ?? [];
    const fired = events.flatMap((e, i) => (e.timerFiredEventAttributes ? [i] : []));
    const accepted = events.flatMap((e, i) => (e.workflowExecutionUpdateAcceptedEventAttributes ? [i] : []));
    assert.equal(accepted.length, 1, 'the refused ones left nothing');
    assert.ok(
      fired.length >= 2 && accepted[0]! > fired[1]!,
      `accepted at ${accepted[0]}, after the timers at ${fired.join(', ')}`,
    );
    return events;
  };
  /** Runs a worker until the open gate takes Updates (its 1 ms timer fired in a workflow task now ended), then none. */
  const runUntilTaking = async (handle: WorkflowHandle) =>
    (await worker()).runUntil(async () => {
      const taking = (events: proto.temporal.api.history.v1.IHistoryEvent[]) =>
        events
          .slice(events.findIndex((e) => e.timerFiredEventAttributes))
          .some((e) => e.workflowTaskCompletedEventAttributes);
      while (!taking((await handle.fetchHistory()).events ?? [])) await sleep(50);
    });
  const replay = async (handle: WorkflowHandle) =>
    Worker.runReplayHistory(
      { workflowBundle, dataConverter: testConverter() },
      await handle.fetchHistory(),
      handle.workflowId,
    );

  before(async () => {
    ({ workflowBundle, connection, client, close } = await testWorkflows('gates.ts'));
  });
  after(() => close());

  it('replays as it ran when a signal and an Update reach the gate in one workflow task, the seal checked locally', async () => {
    const workflowId = unique('gate');
    const handle = await client.workflow.start<typeof gateThenStep>('gateThenStep', { taskQueue, workflowId });
    await runUntilTaking(handle);
    const sealed = signVerdict(workflowId, { approve: { by: 'hana' } }, auth.personToken('hana')).approve;
    // A plain signal (as the Web UI sends) applies at once; the sealed Update is checked by a local activity meanwhile.
    await handle.signal(approveSignal, { by: 'ivan', comment: '' });
    const update = handle.executeUpdate(approveUpdate, { args: [sealed] });
    await sleep(500);
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
    await replay(handle);
  });

  it('sends an approval again while the workflow has its fill of Updates in flight (RESOURCE_EXHAUSTED)', async () => {
    const workflowId = unique('gate');
    const handle = await client.workflow.start<typeof gateThenStep>('gateThenStep', { taskQueue, workflowId });
    await runUntilTaking(handle);
    // No worker runs: the server holds each Update it admits, 10 at most per workflow, and refuses the next at once.
    const sent = Array.from({ length: 12 }, (_, i) =>
      sendVerdict(client, workflowId, { approve: { by: `p${i}` } }).then(
        (record) => record.applied,
        (error: unknown) => String(error),
      ),
    );
    await sleep(1000);
    const outcomes = await (await worker()).runUntil(() => Promise.all(sent));
    assert.equal(outcomes.filter((o) => o === true).length, 1, outcomes.join('; '));
    // The rest were ignored, or came after the gate closed; none was lost to the server's limit.
    for (const o of outcomes.filter((o) => o !== true))
      assert.ok(o === false || /no approval pending|already finished/.test(o), String(o));
  });

  it('takes Updates only while open, from the workflow task after it opened: one that comes with the step opening it is refused, however the SDK orders them', async () => {
    const workflowId = unique('gate');
    const handle = await client.workflow.start<typeof stepThenGate>('stepThenGate', { taskQueue, workflowId });
    await (
      await worker()
    ).runUntil(async () => {
      while ((await handle.describe()).historyLength < 5) await sleep(50);
      // Before the gate opens, an Update is refused: nothing written, the sender told why.
      await assert.rejects(sendVerdict(client, workflowId, { approve: { by: 'hana' } }), /has no approval pending/);
    });
    // The step ends while no worker runs; the Update comes in the same workflow task. Replayed, it is handed over in
    // the activation opening the gate; run, it may come in one of its own: refused either way, nothing written.
    await sleep(1500);
    const early = handle.executeUpdate(approveUpdate, { args: [{ by: 'ivan' }] });
    await sleep(500);
    const [applied, received] = await (
      await worker()
    ).runUntil(async () => {
      await assert.rejects(early, (e) => e instanceof WorkflowUpdateFailedError && e.cause?.message === GATE_OPENING);
      // The client sends one refused as the gate opens again, until it is taken.
      return Promise.all([sendVerdict(client, workflowId, { approve: { by: 'jo' } }), handle.result()]);
    });
    assert.equal(applied.applied, true);
    assert.deepEqual(
      received.map((r) => [r.by, r.via, r.applied]),
      [['jo', 'update', true]],
    );
    await takenOnceOpen(handle);
    await replay(handle);
  });

  it('refuses an Update that comes in the workflow task whose events a query had already applied, opening the gate', async () => {
    // The chaos run's finding: a query sent while nothing was pending goes straight to a worker; when the step ends
    // before a worker takes it, it brings the step's end along, and the SDK applies that first, opening the gate in
    // an activation of its own. The workflow task that follows carries an Update: taken then, it was accepted after
    // the gate's commands as it ran, but replayed, the two come in one activation and no worker could take the run.
    for (let tries = 1; ; tries++) {
      const workflowId = unique('gate');
      const handle = await client.workflow.start<typeof stepThenGate>('stepThenGate', { taskQueue, workflowId });
      await runUntilLength(handle, 5);
      const asked = handle.query(openedAtQuery);
      await sleep(1500);
      // Refused as the gate opens (by the gate, or by the server when that workflow task ended without it), and sent
      // again by the client until the gate takes it.
      const early = sendVerdict(client, workflowId, { approve: { by: 'ivan' } });
      await sleep(500);
      const [openedAt, applied, received] = await (
        await worker()
      ).runUntil(async () => [await asked, ...(await Promise.all([early, handle.result()]))] as const);
      assert.equal(applied.applied, true);
      assert.deepEqual(
        received.map((r) => [r.by, r.via, r.applied]),
        [['ivan', 'update', true]],
      );
      const events = await takenOnceOpen(handle);
      await replay(handle);
      const fired = events.findIndex((e) => e.timerFiredEventAttributes);
      const taskStarted = events.slice(fired).find((e) => e.workflowTaskStartedEventAttributes)?.eventId;
      // The query brought the step's end when the gate opened before the workflow task that took it had started.
      if (openedAt !== null && openedAt < Number(taskStarted)) break;
      assert.ok(tries < 20, `in ${tries} tries, the worker never took the query before the workflow task`);
    }
  });

  it('takes a signal that comes with the step opening the gate as an answer to it, as when the gate had opened first', async () => {
    const workflowId = unique('gate');
    const handle = await client.workflow.start<typeof stepThenGate>('stepThenGate', { taskQueue, workflowId });
    await runUntilLength(handle, 5);
    // The step ends while no worker runs, and the signal comes in the same workflow task: the signal is handled first.
    await sleep(1500);
    await handle.signal(approveSignal, { by: 'ivan', comment: '' });
    const received = await (await worker()).runUntil(handle.result());
    assert.deepEqual(
      received.map((r) => [r.by, r.via, r.applied, r.ignored]),
      [['ivan', 'signal', true, undefined]],
    );
    await replay(handle);
  });
});
