import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createWorkActivities } from '../activities/work';
import { EventBus } from '../src/bus/event-bus';
import type { TaskUpdate } from '../src/contracts/task-input';
import { DecisionService } from '../src/control-plane/decision-service';
import { FleetView } from '../src/control-plane/fleet-view';
import { createMetrics } from '../src/observability/metrics';
import { RegistryStore } from '../src/registry/registry-store';
import { agentInstance } from './support/fixtures';
import { recordingLogger } from './support/recording-logger';
import { tempDir, testServers, unique } from './support/servers';

const { natsUrl } = testServers();

describe('task records (found by the chaos run: a TaskCompleted stored twice)', () => {
  let bus: EventBus;
  let registry: RegistryStore;
  let view: FleetView;
  let work: ReturnType<typeof createWorkActivities>;
  before(async () => {
    const log = recordingLogger();
    bus = await EventBus.connect(natsUrl, { logger: log });
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'test' });
    view = await FleetView.open(registry, bus);
    work = createWorkActivities({
      stateDir: tempDir('records'),
      registry,
      bus,
      view,
      decisions: new DecisionService(registry, bus, log),
      metrics: createMetrics(),
      // Records neither start nor signal workflows.
      temporal: undefined as unknown as Client,
    });
  });
  after(async () => {
    view.close();
    await bus.close();
    await registry.close();
  });

  it('records an ending once however often its local activity runs again (a retried workflow task)', async () => {
    const agentId = unique('developer');
    await registry.instances.put(agentInstance(agentId));
    const taskId = unique('task');
    const update = (status: TaskUpdate['status'], attempt: number): TaskUpdate => ({
      task_id: taskId,
      role: 'developer',
      title: 'Implement',
      priority: 'normal',
      deadline: new Date(Date.now() + 60_000).toISOString(),
      created_at: new Date().toISOString(),
      status,
      attempt,
      agent_id: agentId,
      ...(status === 'completed' && {
        result: { success: true, summary: 'done', artifacts: [] },
        duration_ms: 1_000,
      }),
      ...(status === 'failed' && { error: 'the agent died' }),
    });

    await work.recordTask(update('running', 1));
    await work.recordTask(update('failed', 1));
    await work.recordTask(update('failed', 1));
    await work.recordTask(update('running', 2));
    for (let run = 0; run < 3; run++) await work.recordTask(update('completed', 2));

    const instance = await registry.instances.get(agentId);
    assert.equal(instance?.tasks_completed, 1);
    assert.equal(instance?.tasks_failed, 1);
    const stored = await registry.tasks.get(taskId);
    assert.equal(stored?.status, 'completed');
    assert.equal(stored?.retry_count, 1);
    const events: string[] = [];
    for await (const e of bus.events({ subject: 'vapora.tasks.>' }))
      if ('task_id' in e.message && e.message.task_id === taskId) events.push(e.message.type);
    assert.deepEqual(events, ['TaskFailed', 'TaskCompleted']);
  });

  it("adds up an agent's counters over endings recorded at once, in one query with the record, and leaves them to setFields", async () => {
    const agentId = unique('developer');
    await registry.instances.put(agentInstance(agentId, { tasks_completed: 2, avg_task_duration_ms: 1_000 }));
    const ending = (n: number, status: 'completed' | 'failed'): TaskUpdate => ({
      task_id: unique(`task-${n}`),
      role: 'developer',
      title: `Implement ${n}`,
      priority: 'normal',
      deadline: new Date(Date.now() + 60_000).toISOString(),
      created_at: new Date().toISOString(),
      status,
      attempt: 1,
      agent_id: agentId,
      usage: {
        provider: 'offline',
        model: 'offline',
        input_tokens: 100 * n,
        output_tokens: 10 * n,
        cost_usd: 0.25,
        fallbacks: [],
        answered_by: 'offline',
      },
      ...(status === 'completed'
        ? { result: { success: true, summary: 'done', artifacts: [] }, duration_ms: 1_000 * n }
        : { error: 'the agent died' }),
    });
    const endings = [ending(3, 'completed'), ending(5, 'completed'), ending(7, 'failed')];
    const queries = registry.queries;
    await Promise.all([
      ...endings.map((e) => work.recordTask(e)),
      registry.instances.setFields([{ key: agentId, fields: { last_heartbeat: '2026-12-04T12:00:00.000Z' } }]),
    ]);
    // Per ending: whether it was recorded already, then its record and the counters together.
    assert.equal(registry.queries - queries, 2 * endings.length + 1);
    const instance = await registry.instances.get(agentId);
    assert.equal(instance?.tasks_completed, 4);
    assert.equal(instance?.tasks_failed, 1);
    // (1000 × 2 + 3000 + 5000) / 4, the failed one not timed.
    assert.equal(instance?.avg_task_duration_ms, 2_500);
    assert.equal(instance?.tokens_used, 110 * (3 + 5 + 7));
    assert.equal(instance?.cost_incurred, 0.75);
    assert.equal(instance?.last_heartbeat, '2026-12-04T12:00:00.000Z');
    for (const e of endings) assert.equal((await registry.tasks.get(e.task_id))?.status, e.status);
    // An instance removed meanwhile stays removed; the task is still recorded.
    await registry.instances.remove(agentId);
    const late = ending(9, 'completed');
    await work.recordTask(late);
    assert.equal(await registry.instances.get(agentId), undefined);
    assert.equal((await registry.tasks.get(late.task_id))?.status, 'completed');
  });
});
