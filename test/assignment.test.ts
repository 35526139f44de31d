import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../src/bus/event-bus';
import { chooseAgent, successRate, type Candidate } from '../src/control-plane/assignment';
import { FleetView } from '../src/control-plane/fleet-view';
import type { TaskPriority } from '../src/domain';
import { createLogger } from '../src/logger';
import { RegistryStore } from '../src/registry/registry-store';
import { agentInstance, agentMetadata } from './support/fixtures';
import { testServers } from './support/servers';
import { eventually } from './support/fleet';

const agent = (agentId: string, over: Partial<Candidate> = {}): Candidate => ({
  agentId,
  role: 'developer',
  capabilities: ['implement-code'],
  capacity: 3,
  reserved: 0,
  load: 0,
  completed: 0,
  failed: 0,
  ...over,
});

describe('assignment', () => {
  it('prefers the least loaded agent of the role', () => {
    const chosen = chooseAgent(
      [agent('d-1', { load: 0.6 }), agent('d-2', { reserved: 1 }), agent('a-1', { role: 'architect' })],
      { role: 'developer', exclude: [] },
    );
    assert.equal(chosen?.agentId, 'd-2');
  });

  it('weighs capability match and past success, and breaks ties by agent id', () => {
    const candidates = [agent('d-2'), agent('d-1'), agent('d-3', { capabilities: ['write-tests'] })];
    assert.equal(
      chooseAgent(candidates, { role: 'developer', capability: 'implement-code', exclude: [] })?.agentId,
      'd-1',
    );
    assert.equal(
      chooseAgent([agent('d-1', { completed: 1, failed: 4 }), agent('d-2', { completed: 5 })], {
        role: 'developer',
        exclude: [],
      })?.agentId,
      'd-2',
    );
    assert.ok(successRate({ completed: 0, failed: 0 }) === 1, 'a new agent is not starved');
  });

  it('never picks a full or excluded agent, and says so when nobody can take the task', () => {
    assert.equal(
      chooseAgent([agent('d-1', { reserved: 3 }), agent('d-2')], { role: 'developer', exclude: ['d-2'] }),
      undefined,
    );
    assert.equal(chooseAgent([], { role: 'tester', exclude: [] }), undefined);
  });
});

describe("a role's queue (FleetView)", () => {
  let registry: RegistryStore;
  let bus: EventBus;
  let view: FleetView;
  const woken: string[] = [];
  before(async () => {
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'queue' });
    await registry.agents.put(agentMetadata('developer-001', { max_concurrent_tasks: 1 }));
    await registry.instances.put(agentInstance('developer-001'));
    bus = await EventBus.connect(testServers().natsUrl, { logger: createLogger('queue', { write: () => undefined }) });
    view = await FleetView.open(registry, bus, { refreshMs: 3_600_000, wake: (taskId) => woken.push(taskId) });
  });
  after(async () => {
    view.close();
    await bus.close();
    await registry.close();
  });
  const ask = (taskId: string, priority: TaskPriority = 'normal', now?: number) =>
    view.assign({ taskId, role: 'developer', exclude: [], priority }, now)?.agentId;

  it('gives a freed slot to the highest priority, then to who waited longest, and wakes that one', async () => {
    assert.equal(ask('t1'), 'developer-001');
    assert.equal(ask('t2'), undefined);
    assert.equal(ask('t3', 'high'), undefined);
    assert.equal(ask('t4'), undefined);
    assert.deepEqual(view.queueDepths(), new Map([['developer', 3]]));

    view.release('developer-001', true);
    assert.deepEqual(woken.splice(0), ['t3']);
    assert.equal(ask('t2'), undefined, 'a high-priority task is ahead');
    assert.equal(ask('t3', 'high'), 'developer-001');

    view.release('developer-001', true);
    assert.deepEqual(woken.splice(0), ['t2']);
    assert.equal(ask('t4'), undefined, 't2 came first');
    assert.equal(ask('t2'), 'developer-001');

    await view.refresh();
    assert.equal((await registry.agents.get('developer-001'))?.queue_depth, 1, 't4 waits');
    // A task woken for its turn that does not come to ask (escalated, ended) leaves the queue.
    view.release('developer-001', true);
    assert.deepEqual(woken.splice(0), ['t4']);
    assert.equal(ask('t5', 'low'), undefined, 't4 has its turn');
    assert.equal(ask('t5', 'low', Date.now() + 11_000), 'developer-001');
    await view.refresh();
    assert.equal((await registry.agents.get('developer-001'))?.queue_depth, 0);
  });

  it("keeps a task's place by when it began waiting: back from escalating, or asking a restarted control plane, it goes ahead of later ones", async () => {
    // A control plane just started: its queue is empty, and the slot free.
    const restarted = await FleetView.open(registry, bus, {
      refreshMs: 3_600_000,
      wake: (taskId) => woken.push(taskId),
    });
    try {
      const wait = (taskId: string, queuedSince: number, now?: number) =>
        restarted.assign({ taskId, attempt: 1, role: 'developer', exclude: [], queuedSince }, now)?.agentId;
      const t0 = Date.now();
      assert.equal(wait('busy', t0), 'developer-001');
      assert.equal(wait('newer', t0 - 1000), undefined);
      assert.equal(wait('older', t0 - 60_000), undefined, 'asks after the restart, but waited before it');
      // The older one escalated: silent long enough to leave the queue; the newer one kept asking.
      const later = t0 + 46_000;
      assert.equal(wait('newer', t0 - 1000, later), undefined);
      assert.deepEqual(restarted.queueDepths(later), new Map([['developer', 1]]));
      assert.equal(wait('older', t0 - 60_000, later), undefined, 'back in the queue');
      restarted.release('developer-001', true, { taskId: 'busy', attempt: 1 });
      assert.deepEqual(woken.splice(0), ['older']);
      assert.equal(wait('newer', t0 - 1000), undefined, 'the older one is ahead');
      assert.equal(wait('older', t0 - 60_000), 'developer-001');
      restarted.release('developer-001', true, { taskId: 'older', attempt: 1 });
      assert.deepEqual(woken.splice(0), ['newer']);
    } finally {
      restarted.close();
    }
  });

  it('answers an attempt asked again with the agent it reserved, not a second slot nobody would free', () => {
    view.release('developer-001', true, { taskId: 't5', attempt: 1 });
    const first = view.assign({ taskId: 'r1', attempt: 1, role: 'developer', exclude: [] });
    // Its workflow task timed out before the answer was recorded, and runs the assignment again.
    const again = view.assign({ taskId: 'r1', attempt: 1, role: 'developer', exclude: [] });
    assert.equal(again?.agentId, first?.agentId);
    assert.equal(again?.reserved, 1, 'one slot reserved');
    view.release('developer-001', true, { taskId: 'r1', attempt: 1 });
    assert.equal(view.assign({ taskId: 'r2', attempt: 1, role: 'developer', exclude: [] })?.agentId, 'developer-001');
  });

  it("follows a status change by reading that agent alone, where a scale's thousand changes once read the whole fleet each", async () => {
    const tester = (taskId: string) => view.assign({ taskId, role: 'tester', exclude: [] })?.agentId;
    const changed = (agentId: string, to: 'Active' | 'Inactive') =>
      bus.publish({
        type: 'AgentStatusChanged',
        agent_id: agentId,
        from: to === 'Active' ? 'Scaling' : 'Active',
        to,
        reason: 'test',
        timestamp: new Date().toISOString(),
      });
    for (const id of ['tester-001', 'tester-002']) {
      await registry.agents.put(agentMetadata(id, { role: 'tester', manifest_id: 'tester' }));
      await registry.instances.put(agentInstance(id));
    }
    await changed('tester-002', 'Active');
    await eventually('the view to take tester-002', async () => tester('e1') === 'tester-002');
    assert.equal(tester('e2'), 'tester-002', 'tester-001 changed no status: not read yet');

    view.release('tester-002', true);
    view.release('tester-002', true);
    await registry.agents.remove('tester-002');
    await changed('tester-002', 'Inactive');
    await eventually('the view to forget tester-002', async () => tester('e3') === undefined);
  });
});
