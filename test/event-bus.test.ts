import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, JSONCodec } from 'nats';
import { EventBus } from '../src/bus/event-bus';
import { ValidationError, type AgentMessage } from '../src/domain';
import type { Logger } from '../src/logger';
import { testServers, unique } from './support/servers';

const { natsUrl } = testServers();

/** A logger that keeps what it was told, so tests can see why a message was dropped. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, fields?: object) =>
    void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

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
    const subject = 'vapora.tasks.progress';
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
    const sub = bus.subscribe('vapora.agent.heartbeat', (m) => void received.push(m));
    const raw = await connect({ servers: natsUrl });
    const codec = JSONCodec();
    raw.publish('vapora.agent.heartbeat', new TextEncoder().encode('not json'));
    raw.publish(
      'vapora.agent.heartbeat',
      codec.encode({ type: 'Heartbeat', agent_id: 'a', status: 'Dancing', load: 0.1 }),
    );
    raw.publish(
      'vapora.agent.heartbeat',
      codec.encode({ type: 'Heartbeat', agent_id: 'monitor-001', status: 'Active', load: 0.25 }),
    );
    await raw.flush();
    await until('the valid heartbeat', () => received.length === 1);
    assert.equal(received[0]?.type === 'Heartbeat' && received[0].agent_id, 'monitor-001');
    assert.ok(log.lines.some((l) => l.includes('not JSON')));
    assert.ok(log.lines.some((l) => l.includes('dropped invalid message') && l.includes('status')));
    sub.unsubscribe();
    await raw.close();
  });

  it('answers requests through a queue group', async () => {
    const other = await EventBus.connect(natsUrl, { logger: recordingLogger() });
    const helpers = ['architect-001', 'architect-002'].map((id) =>
      other.reply(
        'vapora.agent.help',
        async (m) =>
          m.type === 'RequestHelp' && m.to_roles.includes('architect')
            ? {
                type: 'HelpOffered',
                from_agent: id,
                to_agent: m.from_agent,
                capability: { id: 'design-adr', name: 'ADR', description: '', complexity: 'High' },
              }
            : undefined,
        { queue: 'architect' },
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const answer = await bus.request(
      {
        type: 'RequestHelp',
        from_agent: 'developer-001',
        to_roles: ['architect'],
        context: 'which cache?',
        deadline: new Date(Date.now() + 30_000).toISOString(),
      },
      { timeoutMs: 2000 },
    );
    assert.equal(answer.type, 'HelpOffered');
    assert.ok(
      answer.type === 'HelpOffered' &&
        answer.to_agent === 'developer-001' &&
        answer.from_agent.startsWith('architect-'),
    );
    helpers.forEach((h) => h.unsubscribe());
    await other.close();
  });
});
