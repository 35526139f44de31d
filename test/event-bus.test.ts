import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, JSONCodec } from 'nats';
import { EventBus, askForHelp } from '../src/bus/event-bus';
import { SUBJECTS, ValidationError, subjectsOf, type AgentMessage, type MessageOf } from '../src/domain';
import { recordingLogger } from './support/recording-logger';
import { testServers, unique } from './support/servers';

const { natsUrl } = testServers();

const until = async (what: string, check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('event bus (real nats-server with JetStream)', () => {
  let bus: EventBus;
  const log = recordingLogger();
  before(async () => {
    bus = await EventBus.connect(natsUrl, { logger: log });
  });
  after(() => bus.close());

  it('stores a task event once however often it is published with the same Nats-Msg-Id', async () => {
    const taskId = unique('task');
    const subject = subjectsOf('TaskProgress');
    const message: AgentMessage = {
      type: 'TaskProgress',
      task_id: taskId,
      agent_id: 'developer-001',
      progress_percent: 40,
      current_step: 'coding',
    };
    const before = await bus.storedCount(subject);
    const first = await bus.publish(message, `${taskId}/progress/40`);
    const second = await bus.publish(message, `${taskId}/progress/40`);
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.seq, first.seq);
    await bus.publish({ ...message, progress_percent: 80 }, `${taskId}/progress/80`);
    assert.equal(await bus.storedCount(subject), before + 2);
  });

  it('replays stored events in order with their ids', async () => {
    const taskId = unique('task');
    await bus.publish(
      { type: 'TaskStarted', task_id: taskId, agent_id: 'tester-001', timestamp: new Date().toISOString() },
      `${taskId}/started`,
    );
    await bus.publish(
      { type: 'TaskFailed', task_id: taskId, agent_id: 'tester-001', error: 'flaky', retry_count: 1 },
      `${taskId}/failed/1`,
    );
    const mine: string[] = [];
    for await (const event of bus.events()) {
      if ('task_id' in event.message && event.message.task_id === taskId)
        mine.push(`${event.message.type} ${event.msgId}`);
    }
    assert.deepEqual(mine, [`TaskStarted ${taskId}/started`, `TaskFailed ${taskId}/failed/1`]);
  });

  it('refuses to publish an invalid message, naming the field', async () => {
    await assert.rejects(bus.publish({ type: 'Heartbeat', agent_id: 'a', status: 'Active', load: 2 }), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.match(e.message, /load/);
      return true;
    });
  });

  it('drops invalid incoming messages with the reason logged, and keeps delivering valid ones', async () => {
    const received: AgentMessage[] = [];
    const sub = bus.subscribe(subjectsOf('Heartbeat'), (m) => void received.push(m));
    const raw = await connect({ servers: natsUrl });
    const codec = JSONCodec();
    raw.publish('vapora.agent.heartbeat.a', new TextEncoder().encode('not json'));
    raw.publish(
      'vapora.agent.heartbeat.a',
      codec.encode({ type: 'Heartbeat', agent_id: 'a', status: 'Dancing', load: 0.1 }),
    );
    // Sent on one agent's subject in another's name: forged.
    raw.publish(
      'vapora.agent.heartbeat.monitor-002',
      codec.encode({ type: 'Heartbeat', agent_id: 'monitor-001', status: 'Active', load: 0.5 }),
    );
    raw.publish(
      'vapora.agent.heartbeat.monitor-001',
      codec.encode({ type: 'Heartbeat', agent_id: 'monitor-001', status: 'Active', load: 0.25 }),
    );
    await raw.flush();
    await until('the valid heartbeat', () => received.length === 1);
    assert.deepEqual(received, [{ type: 'Heartbeat', agent_id: 'monitor-001', status: 'Active', load: 0.25 }]);
    assert.ok(log.lines.some((l) => l.includes('not JSON')));
    assert.ok(log.lines.some((l) => l.includes('dropped invalid message') && l.includes('status')));
    assert.ok(log.lines.some((l) => l.includes('dropped message sent in another name') && l.includes('monitor-002')));
    sub.unsubscribe();
    await raw.close();
  });

  it('asks for help: one member of a queue group offers, in its own name, to the asker', async () => {
    const other = await EventBus.connect(natsUrl, { logger: recordingLogger() });
    const offered: string[] = [];
    const helpers = ['architect-001', 'architect-002'].map((id) =>
      other.subscribe(
        SUBJECTS.RequestHelp,
        async (m) => {
          if (m.type !== 'RequestHelp' || !m.to_roles.includes('architect')) return;
          offered.push(id);
          await other.publish({
            type: 'HelpOffered',
            from_agent: id,
            to_agent: m.from_agent,
            capability: { id: 'design-adr', name: 'ADR', description: '', complexity: 'High' },
          });
        },
        { queue: 'architect' },
      ),
    );
    await other.flush();
    const request: MessageOf<'RequestHelp'> = {
      type: 'RequestHelp',
      from_agent: 'developer-001',
      to_roles: ['architect'],
      context: 'which cache?',
      deadline: new Date(Date.now() + 30_000).toISOString(),
    };
    const answer = await askForHelp(bus, request, 2000);
    assert.equal(answer?.to_agent, 'developer-001');
    assert.ok(answer?.from_agent.startsWith('architect-'));
    assert.equal(offered.length, 1, 'one member of the group offers');
    // Nobody of the role asked: no offer, after the wait.
    assert.equal(
      await askForHelp(bus, { ...request, to_roles: ['marketer'], from_agent: 'developer-002' }, 300),
      undefined,
    );
    helpers.forEach((h) => h.unsubscribe());
    await other.close();
  });
});
