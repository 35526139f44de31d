import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { wakeSignal } from '../src/contracts/messages';
import { taskWorkflowId } from '../src/contracts/workflow-ids';
import { wakeWaitingTasks } from '../src/client/task-client';
import { VaporaStatus } from '../src/temporal/search-attributes';
import { eventually } from './support/fleet';
import { nativeConnection } from '../src/temporal/connection';
import { asksQuery, type askAndWait, type waitThenTimer } from './workflows/wake-ups';
import { testConverter, testServers, unique } from './support/servers';
import { tcpProxy } from './support/tcp-proxy';
import { testWorkflows } from './support/worker';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wake-up (found by the chaos run: a task no worker could replay)', () => {
  const taskQueue = unique('wake');
  let workflowBundle: WorkflowBundleWithSourceMap;
  let connection: NativeConnection;
  let client: Client;
  let close: () => Promise<void>;
  const activities = { ask: async () => null };
  const run = async <T>(until: () => Promise<T>) =>
    (
      await Worker.create({ connection, taskQueue, workflowBundle, activities, dataConverter: testConverter() })
    ).runUntil(until);
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

  it('keeps a wake that comes in the workflow task where its wait ended, when a query brought that end first', async () => {
    // The chaos run's finding: a worker died; a person's query went to the next worker with the whole history, where the
    // wait's timer had fired, and the SDK applied that fire in the query's activation (the next ask began there). The
    // wake came in the workflow task that followed, with that fire: replayed, the wake comes first, in one activation.
    for (let tries = 1; ; tries++) {
      const workflowId = unique('wake');
      const proxy = await tcpProxy(testServers().temporalAddress);
      const dying = await nativeConnection({ address: proxy.address });
      // Its sticky queue stays the run's once cut: the workflow task the timer makes waits there until it times out (3 s).
      const first = await Worker.create({
        connection: dying,
        taskQueue,
        workflowBundle,
        activities,
        dataConverter: testConverter(),
        stickyQueueScheduleToStartTimeout: '3s',
      });
      const firstRunning = first.run();
      const handle = await client.workflow.start<typeof askAndWait>('askAndWait', {
        taskQueue,
        workflowId,
        args: [2000, 3],
      });
      while (!(await timers(handle)).length) await sleep(50);
      // Killed: its pollers stop, and its call to say so never reaches the server.
      proxy.cut();
      first.shutdown();
      // The query waits on the dead sticky queue (3 s), then goes to the next worker with the whole history: the timer
      // fired meanwhile. The wake, sent once it answered, comes in the workflow task that fire made.
      const asks = await run(async () => {
        const asks = await handle.query(asksQuery);
        await handle.signal(wakeSignal);
        await handle.result();
        return asks;
      });
      await firstRunning;
      await dying.close();
      await proxy.close();
      await Worker.runReplayHistory(
        { workflowBundle, dataConverter: testConverter() },
        await handle.fetchHistory(),
        workflowId,
      );
      const events = (await handle.fetchHistory()).events ?? [];
      const fired = events.findIndex((e) => e.timerFiredEventAttributes);
      const woken = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
      const sameTask = !events.slice(fired, woken).some((e) => e.workflowTaskStartedEventAttributes);
      if (asks.length === 2 && sameTask) {
        // The wake cut the second wait short (its timer, 2, never reached the server); the third wait ran its course.
        assert.deepEqual(await timers(handle), ['started 1', 'started 3']);
        break;
      }
      assert.ok(tries < 10, `in ${tries} tries, the query never brought the wait's end before the wake`);
    }
  });

  it("wakes the waiting tasks of its own task queue only, not another stack's in the same namespace", async () => {
    const [ours, theirs] = [unique('wake-ours'), unique('wake-theirs')];
    // Tasks waiting for an agent, on queues no worker serves: as visibility lists them, which is all that is asked.
    const waiting = async (taskQueue: string) => {
      const taskId = unique('waiting');
      const handle = await client.workflow.start('taskWorkflow', {
        taskQueue,
        workflowId: taskWorkflowId(taskId),
        args: [{ role: 'developer', title: 'Wait for an agent' }],
        typedSearchAttributes: [{ key: VaporaStatus, value: 'pending' }],
      });
      return { taskId, handle };
    };
    const [mine, other] = [await waiting(ours), await waiting(theirs)];
    try {
      const woken = (queue: string) => async () => {
        const ids: string[] = [];
        await wakeWaitingTasks(client, queue, (id) => void ids.push(id));
        return ids.length > 0 && ids;
      };
      assert.deepEqual(await eventually("the other stack's task listed", woken(theirs), 30_000), [other.taskId]);
      assert.deepEqual(await eventually('our task listed', woken(ours), 30_000), [mine.taskId]);
    } finally {
      await Promise.all([mine.handle.terminate('test done'), other.handle.terminate('test done')]);
    }
  });
});
