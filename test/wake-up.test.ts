import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { wakeSignal } from '../src/contracts/messages';
import type { waitThenTimer } from './workflows/wake-ups';
import { testConverter, unique } from './support/servers';
import { testWorkflows } from './support/worker';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wake-up (found by the chaos run: a task no worker could replay)', () => {
  const taskQueue = unique('wake');
  let workflowBundle: WorkflowBundleWithSourceMap;
  let connection: NativeConnection;
  let client: Client;
  let close: () => Promise<void>;
  const run = async <T>(until: () => Promise<T>) =>
    (await Worker.create({ connection, taskQueue, workflowBundle, dataConverter: testConverter() })).runUntil(until);
  const timers = async (handle: WorkflowHandle) =>
    ((await handle.fetchHistory()).events ?? []).flatMap((e) =>
      e.timerStartedEventAttributes
        ? [`started ${e.timerStartedEventAttributes.timerId}`]
        : e.timerCanceledEventAttributes
          ? [`cancelled ${e.timerCanceledEventAttributes.timerId}`]
          : [],
    );

  before(async () => {
    ({ workflowBundle, connection, client, close } = await testWorkflows('wake-ups.ts'));
  });
  after(() => close());

  it('numbers the timers after a wait alike, whether the wake came before the wait began or during it', async () => {
    // A wake that comes with the ask's result in one workflow task is handed over before that result or after it,
    // one way as the run goes and the other on replay: the wait must use up the same timer numbers either way.
    const before = await client.workflow.signalWithStart<typeof waitThenTimer>('waitThenTimer', {
      taskQueue,
      workflowId: unique('wake'),
      signal: wakeSignal,
    });
    await run(() => before.result());
    const during = await client.workflow.start<typeof waitThenTimer>('waitThenTimer', {
      taskQueue,
      workflowId: unique('wake'),
    });
    await run(async () => {
      while (!(await timers(during)).length) await sleep(50);
      await during.signal(wakeSignal);
      await during.result();
    });
    // Woken before: its wait's timer is started and cancelled in one activation, so the server never sees it.
    assert.deepEqual(await timers(before), ['started 2']);
    assert.deepEqual(await timers(during), ['started 1', 'cancelled 1', 'started 2']);
  });
});
