import assert from 'node:assert/strict';
import { subjectsOf } from '../src/domain';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../src/bus/event-bus';
import { RegistryStore } from '../src/registry/registry-store';
import { stackCheckWorkflow } from '../workflows';
import { testServers, unique } from './support/servers';
import { controlPlane } from './support/worker';

describe('stackCheckWorkflow through the control-plane worker', () => {
  let registry: RegistryStore;
  let bus: EventBus;
  before(async () => {
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'test' });
    bus = await EventBus.connect(testServers().natsUrl);
  });
  after(async () => {
    await bus.close();
    await registry.close();
  });

  it('round-trips Temporal → SurrealDB → NATS', async () => {
    const taskQueue = unique('vapora');
    const plane = await controlPlane(taskQueue, { registry, bus });
    plane.run();
    const heartbeats: string[] = [];
    const sub = bus.subscribe(
      subjectsOf('Heartbeat'),
      (m) => void (m.type === 'Heartbeat' && heartbeats.push(m.agent_id)),
    );
    try {
      const workflowId = unique('stack-check');
      const result = await plane.client.workflow.execute(stackCheckWorkflow, { taskQueue, workflowId });
      assert.deepEqual(result, { registry: 'ok', bus: 'ok', workflowId });
      const stored = await registry.knowledge.get(`stack-check/${workflowId}`);
      assert.deepEqual(stored?.data, { workflowId });
      assert.equal(stored?.context_type, 'stack-check');
      assert.ok(heartbeats.includes('control-plane'));
      const history = await plane.client.workflow.getHandle(workflowId).fetchHistory();
      const activities = history.events
        ?.filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
      assert.deepEqual(activities, ['shareKnowledge', 'readKnowledge', 'publishMessage']);
    } finally {
      sub.unsubscribe();
      await plane.shutdown();
    }
  });
});
