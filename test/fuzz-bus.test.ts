import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { connect, type NatsConnection } from 'nats';
import { EventBus } from '../src/bus/event-bus';
import {
  AgentMessage,
  SELF_SENT,
  describeIssues,
  SUBJECTS,
  senderOf,
  subjectOf,
  subjectsOf,
  type AgentMessageType,
} from '../src/domain';
import { RegistryStore } from '../src/registry/registry-store';
import {
  anyValue,
  fuzz,
  hostileNumber,
  hostileString,
  identifier,
  jsonData,
  key,
  nonEmptyText,
  pollutingObject,
  prototypePolluted,
  role,
  text,
  timestamp,
  token,
  wrongType,
  asJson,
} from './support/arbitraries';
import { recordingLogger } from './support/recording-logger';
import { testServers } from './support/servers';

/** Property-based tests of the messages on the bus: their schema and subjects, and a real subscriber's decoding. */

const nat = (max: number) => fc.nat({ max });
const status = fc.oneof(
  fc.constantFrom('Active', 'Inactive', 'Updating', 'Scaling'),
  nonEmptyText(40).map((reason) => ({ Error: reason })),
);
const capability = fc.record({
  id: fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+){0,2}$/),
  name: nonEmptyText(40),
  description: text(100),
  complexity: fc.constantFrom('Low', 'Medium', 'High', 'Critical'),
});
const context = fc.record(
  {
    task_id: identifier,
    feature_id: identifier,
    role,
    capability: nonEmptyText(40),
    title: nonEmptyText(500),
    description: text(2_000),
    priority: fc.constantFrom('low', 'normal', 'high', 'critical'),
    inputs: fc.dictionary(key(), text(40), { maxKeys: 3, noNullPrototype: true }),
    workspace: nonEmptyText(100),
  },
  { requiredKeys: ['task_id', 'role', 'title'] },
);
const result = fc.record(
  {
    success: fc.boolean(),
    summary: text(500),
    verdict: fc.constantFrom('approve', 'reject', 'block'),
    artifacts: fc.array(fc.record({ id: identifier, kind: nonEmptyText(20), title: text(40), bytes: nat(1e9) }), {
      maxLength: 3,
    }),
    commit: fc.stringMatching(/^[0-9a-f]{40}$/),
    files: fc.array(nonEmptyText(60), { maxLength: 3 }),
  },
  { requiredKeys: ['success', 'summary'] },
);
/** A valid message of each of the 12 types, in any sender's name (`sender`: what names the agent that sends it). */
const messageOf = (sender: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.record({
      type: fc.constant('TaskAssigned'),
      task_id: nonEmptyText(),
      agent_id: nonEmptyText(),
      context,
      deadline: timestamp,
    }),
    fc.record({ type: fc.constant('TaskStarted'), task_id: nonEmptyText(), agent_id: sender, timestamp }),
    fc.record({
      type: fc.constant('TaskProgress'),
      task_id: nonEmptyText(),
      agent_id: sender,
      progress_percent: nat(100),
      current_step: text(200),
    }),
    fc.record({
      type: fc.constant('TaskCompleted'),
      task_id: nonEmptyText(),
      agent_id: nonEmptyText(),
      result,
      tokens_used: nat(1e9),
      duration_ms: nat(1e9),
    }),
    fc.record({
      type: fc.constant('TaskFailed'),
      task_id: nonEmptyText(),
      agent_id: nonEmptyText(),
      error: text(500),
      retry_count: nat(10),
    }),
    fc.record({
      type: fc.constant('RequestHelp'),
      from_agent: nonEmptyText(),
      to_roles: fc.array(role, { minLength: 1, maxLength: 3 }),
      context: text(500),
      deadline: timestamp,
    }),
    fc.record({ type: fc.constant('HelpOffered'), from_agent: sender, to_agent: nonEmptyText(), capability }),
    fc.record(
      {
        type: fc.constant('ShareContext'),
        key: key(256),
        from_agent: sender,
        to_roles: fc.array(role, { maxLength: 3 }),
        context_type: nonEmptyText(127),
        data: jsonData,
        ttl_minutes: fc.integer({ min: 1, max: 525_600 }),
      },
      { requiredKeys: ['type', 'from_agent', 'to_roles', 'context_type', 'data', 'ttl_minutes'] },
    ),
    fc.record({
      type: fc.constant('RequestDecision'),
      from_agent: nonEmptyText(),
      decision_type: nonEmptyText(),
      context: text(500),
      options: fc.array(text(40), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({
      type: fc.constant('DecisionMade'),
      decision_id: nonEmptyText(),
      decision: nonEmptyText(),
      reasoning: text(500),
      made_by: nonEmptyText(),
    }),
    fc.record({
      type: fc.constant('Heartbeat'),
      agent_id: sender,
      status,
      load: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    fc.record({
      type: fc.constant('AgentStatusChanged'),
      agent_id: nonEmptyText(),
      from: status,
      to: status,
      reason: text(200),
      timestamp,
    }),
  ) as fc.Arbitrary<AgentMessage>;
/** What a subscriber receives of a message: parsed, so with its defaults filled in. */
const validMessage = messageOf(token).map((m) => AgentMessage.parse(m));

/** A NATS subject a message can be published on: non-empty tokens of printable characters, no wildcard. */
const isPublishable = (subject: string) => subject.split('.').every((t) => /^[^\s*>]+$/.test(t));
/** Whether `pattern` (with `*` and `>`) matches `subject`, as nats-server matches them. */
function matches(pattern: string, subject: string): boolean {
  const [p, s] = [pattern.split('.'), subject.split('.')];
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/** A message with one field changed to `bad`: an invalid variant (or, by chance, still a valid one). */
const withWrongField = fc
  .tuple(validMessage, fc.nat(), fc.oneof(wrongType, pollutingObject))
  .map(([message, pick, bad]) => {
    const fields = Object.keys(message);
    return { ...message, [fields[pick % fields.length]!]: bad };
  });

describe('fuzz: bus messages (schema and subjects)', () => {
  it('a valid message goes through JSON unchanged, on a publishable subject its type subscribes to, in its sender’s name', () => {
    // Sender ids as a person might write them, ".." and a "." at the end too: if the message is valid, its subject must be.
    const anyId = fc.oneof(token, identifier, fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,12}$/));
    fc.assert(
      fc.property(messageOf(anyId), (raw) => {
        const parsed = AgentMessage.safeParse(raw);
        fc.pre(parsed.success);
        const message = parsed.data;
        assert.deepStrictEqual(AgentMessage.parse(JSON.parse(JSON.stringify(message))), message);
        const subject = subjectOf(message);
        assert.ok(isPublishable(subject), `${message.type} goes to ${subject}, which nats-server drops`);
        assert.ok(matches(subjectsOf(message.type), subject), `${subjectsOf(message.type)} does not match ${subject}`);
        const sender = senderOf(message);
        assert.equal(sender !== undefined, (SELF_SENT as AgentMessageType[]).includes(message.type));
        assert.equal(subject, sender === undefined ? SUBJECTS[message.type] : `${SUBJECTS[message.type]}.${sender}`);
      }),
      // Found by this property: these were valid, and nats-server dropped them without a word.
      fuzz<[AgentMessage]>(1_000, {
        examples: [
          [{ type: 'Heartbeat', agent_id: 'developer..001', status: 'Active', load: 0.5 }],
          [{ type: 'TaskStarted', task_id: 't', agent_id: 'developer.', timestamp: new Date(0).toISOString() }],
        ],
      }),
    );
  });

  it('anything else is refused by the schema naming a field, never thrown past safeParse, and pollutes nothing', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, withWrongField), (raw) => {
        const parsed = AgentMessage.safeParse(raw);
        // What the subscriber logs of a message it drops.
        if (!parsed.success) assert.ok(describeIssues(parsed.error).every((line) => line.includes(': ')));
        assert.equal(prototypePolluted(), false);
      }),
      fuzz(1_000),
    );
  });

  it('every ShareContext the schema takes, the registry stores (one it refused would be redelivered forever)', async () => {
    const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'fuzz-bus' });
    // Past every bound: long keys and topics, any JSON (huge numbers, deep, `__proto__`), any TTL.
    const shared = fc.record(
      {
        type: fc.constant('ShareContext'),
        key: fc.oneof(key(256), fc.string({ minLength: 250, maxLength: 300 }), hostileString),
        from_agent: fc.oneof(
          token,
          fc.string({ minLength: 120, maxLength: 128 }).map((s) => `a${s.replace(/[^\w-]/g, 'x')}`),
        ),
        to_roles: fc.array(role, { maxLength: 2 }),
        context_type: fc.oneof(nonEmptyText(127), fc.string({ minLength: 120, maxLength: 260 })),
        // As it comes off the wire: JSON.
        data: fc.oneof(fc.jsonValue(), anyValue, pollutingObject).map((v) => JSON.parse(asJson(v)) as unknown),
        ttl_minutes: fc.oneof(
          fc.integer({ min: 1, max: 525_600 }),
          hostileNumber,
          fc.integer({ min: 1, max: 2 ** 53 }),
        ),
      },
      { requiredKeys: ['type', 'from_agent', 'to_roles', 'context_type', 'data', 'ttl_minutes'] },
    );
    type Shared = typeof shared extends fc.Arbitrary<infer T> ? T : never;
    const SHARED: Shared = {
      type: 'ShareContext',
      from_agent: 'a',
      to_roles: [],
      context_type: 't',
      data: 1,
      ttl_minutes: 5,
    };
    try {
      await fc.assert(
        fc.asyncProperty(shared, async (raw) => {
          const parsed = AgentMessage.safeParse(raw);
          if (!parsed.success || parsed.data.type !== 'ShareContext') return;
          // As src/control-plane/context-intake.ts stores it.
          const {
            type: _type,
            key: at = `${parsed.data.from_agent}/${parsed.data.context_type}`,
            ...entry
          } = parsed.data;
          await registry.knowledge.share({ key: at, ...entry });
        }),
        // Found by this property: each of these was taken off the bus, then refused by the store (or threw), forever.
        fuzz<[Shared]>(300, {
          examples: [
            [{ ...SHARED, ttl_minutes: 1e13 }],
            [{ ...SHARED, key: 'k'.repeat(300) }],
            [{ ...SHARED, context_type: 't'.repeat(200) }],
            [{ ...SHARED, data: { n: 1e21 } }],
            [{ ...SHARED, data: JSON.parse(`${'['.repeat(300)}1${']'.repeat(300)}`) as unknown }],
          ],
        }),
      );
    } finally {
      await registry.close();
    }
  });
});

describe('fuzz: a real subscriber (nats-server)', () => {
  let bus: EventBus;
  let raw: NatsConnection;
  const log = recordingLogger();
  before(async () => {
    const { natsUrl } = testServers();
    bus = await EventBus.connect(natsUrl, { logger: log });
    raw = await connect({ servers: natsUrl });
  });
  after(async () => {
    await raw.close();
    await bus.close();
  });

  it('drops invalid JSON, wrong variants, forged senders and oversized payloads with a log line; a valid message arrives unchanged', async () => {
    const bytes = (t: string) => new TextEncoder().encode(t);
    const invalid = fc.oneof(
      fc.oneof(hostileString, fc.string({ unit: 'binary' })).map(bytes),
      fc.uint8Array({ maxLength: 64 }),
      fc.oneof(anyValue, withWrongField).map((v) => bytes(asJson(v))),
      // Valid, but on another's subject: forged, unless it is of a type with a bare subject.
      validMessage.map((m) => bytes(JSON.stringify(m))),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(invalid, { minLength: 1, maxLength: 6 }), validMessage, async (garbage, valid) => {
        const subject = subjectOf(valid);
        const received: AgentMessage[] = [];
        const sub = bus.subscribe('vapora.>', (m) => void received.push(m));
        await bus.flush();
        const dropped = () => log.lines.filter((l) => l.includes('dropped')).length;
        const droppedBefore = dropped();
        // The reference model of decoding: JSON of a valid message, on its own subject or its type's bare one.
        const taken = garbage.flatMap((data) => {
          let message: unknown;
          try {
            message = JSON.parse(new TextDecoder().decode(data));
          } catch {
            return [];
          }
          const parsed = AgentMessage.safeParse(message);
          if (!parsed.success) return [];
          const on = [subjectOf(parsed.data), SUBJECTS[parsed.data.type]];
          return on.includes(subject) ? [parsed.data] : [];
        });
        for (const data of garbage) raw.publish(subject, data);
        // Past the server's max_payload: refused to the sender at once, never delivered.
        assert.throws(() => raw.publish(subject, new Uint8Array(raw.info!.max_payload + 1)), /MAX_PAYLOAD/);
        raw.publish(subject, bytes(JSON.stringify(valid)));
        await raw.flush();
        const deadline = Date.now() + 5_000;
        while (received.length < taken.length + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        sub.unsubscribe();
        assert.deepStrictEqual(received, [...taken, valid]);
        assert.equal(dropped() - droppedBefore, garbage.length - taken.length, 'each message dropped is logged');
      }),
      fuzz(25, { share: 1 / 10 }),
    );
  });
});
