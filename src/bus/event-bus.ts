import {
  AckPolicy,
  DeliverPolicy,
  Events,
  JSONCodec,
  NatsError,
  RetentionPolicy,
  StorageType,
  connect,
  credsAuthenticator,
  headers,
  nanos,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type Msg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { readFileSync } from 'node:fs';
import { decode as decodeJwt } from '@nats-io/jwt';
import {
  AgentMessage,
  CONTEXT_STREAM,
  SUBJECTS,
  TASK_STREAM,
  describeIssues,
  parse,
  subjectOf,
  subjectsOf,
  type MessageOf,
} from '../domain';
import type { NatsSettings } from '../config';
import { inboxPrefix } from './nats-credentials';
import { createLogger, type Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import { SpanKind, continuedFrom, inSpan, traceHeaders } from '../observability/tracing';

/** JetStream's API error code for a stream that does not exist (JSStreamNotFoundErr). */
const JS_STREAM_NOT_FOUND = 10059;

const codec = JSONCodec<unknown>();

/** Window in which JetStream drops a publish whose Nats-Msg-Id it has already stored. */
const DEDUPE_WINDOW_MS = 10 * 60_000;

/**
 * The streams, and how each keeps its messages: task events for replay;
 * shared context until every durable reader (each stack's registry) has
 * stored it, a week at most.
 */
const STREAMS = [
  { ...TASK_STREAM, retention: RetentionPolicy.Limits, max_age: 0 },
  { ...CONTEXT_STREAM, retention: RetentionPolicy.Interest, max_age: nanos(7 * 24 * 3_600_000) },
];
const streamed = (subject: string) =>
  [...TASK_STREAM.subjects, ...CONTEXT_STREAM.subjects].some((s) => subject.startsWith(s.slice(0, -1)));

/** A message not handled is delivered again after this long. */
const REDELIVER_AFTER_MS = 2_000;

export interface PublishResult {
  /** Stream sequence for stream subjects; undefined for plain broadcasts. */
  seq?: number;
  duplicate: boolean;
}

export interface StoredEvent {
  seq: number;
  subject: string;
  msgId?: string;
  time: Date;
  message: AgentMessage;
}

/** The spec's inter-agent bus: validated AgentMessages over NATS, task events kept in JetStream. */
export class EventBus {
  private jsm?: Promise<JetStreamManager>;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly metrics?: Pick<Metrics, 'eventsPublished'>,
  ) {}

  /**
   * Connects to `server` (a URL, or the configured settings with their
   * credentials file and CA). The streams are created or updated unless
   * `manageStreams` is false: an agent may not, and need not.
   */
  static async connect(
    server: string | NatsSettings,
    options: {
      name?: string;
      logger?: Logger;
      metrics?: Pick<Metrics, 'eventsPublished'>;
      manageStreams?: boolean;
    } = {},
  ): Promise<EventBus> {
    const log = options.logger ?? createLogger('bus');
    const settings: NatsSettings = typeof server === 'string' ? { url: server, external: true } : server;
    const creds = settings.credsFile ? readFileSync(settings.credsFile) : undefined;
    const nc = await connect({
      servers: settings.url,
      name: options.name ?? 'vapora',
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...(creds && { authenticator: credsAuthenticator(creds), inboxPrefix: inboxPrefixOf(creds) }),
      ...(settings.caFile && { tls: { caFile: settings.caFile } }),
    });
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === Events.Disconnect || status.type === Events.Reconnect)
          log.warn(`nats ${status.type}`, { server: JSON.stringify(status.data) });
        // What the server refused (a subject this connection may not use): said, never silent.
        else if (status.type === Events.Error)
          log.warn('nats refused', { error: JSON.stringify(status.data), ...status.permissionContext });
      }
    })();
    const bus = new EventBus(nc, nc.jetstream(), log, options.metrics);
    if (options.manageStreams !== false) await bus.ensureStreams();
    return bus;
  }

  private manager(): Promise<JetStreamManager> {
    return (this.jsm ??= this.nc.jetstreamManager());
  }

  private async ensureStreams(): Promise<void> {
    const jsm = await this.manager();
    for (const { name, subjects, retention, max_age } of STREAMS) {
      const config = { name, subjects: [...subjects], max_age, duplicate_window: nanos(DEDUPE_WINDOW_MS) };
      try {
        await jsm.streams.info(name);
        await jsm.streams.update(name, config);
      } catch (error) {
        if (!(error instanceof NatsError && error.jsError()?.err_code === JS_STREAM_NOT_FOUND)) throw error;
        await jsm.streams.add({ ...config, retention, storage: StorageType.File });
      }
    }
  }

  /**
   * Publishes a message on its subject. Task events and shared context go
   * through JetStream with `msgId` as Nats-Msg-Id, so a retried publish is
   * stored once; subscribers see them as any other message.
   */
  async publish(message: AgentMessage, msgId?: string): Promise<PublishResult> {
    const valid = parse(AgentMessage, message, `${message.type ?? 'message'} message`);
    const subject = subjectOf(valid);
    const data = codec.encode(valid);
    this.metrics?.eventsPublished.inc({ subject });
    return inSpan(
      `publish ${subject}`,
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } },
      async () => {
        // The trace goes with the message: whoever handles it continues it (see consume).
        const h = headers();
        for (const [key, value] of Object.entries(traceHeaders())) h.set(key, value);
        if (streamed(subject)) {
          const ack = await this.js.publish(subject, data, { headers: h, ...(msgId && { msgID: msgId }) });
          return { seq: ack.seq, duplicate: ack.duplicate };
        }
        if (msgId) h.set('Nats-Msg-Id', msgId);
        this.nc.publish(subject, data, { headers: h });
        return { duplicate: false };
      },
    );
  }

  /** Calls `handler` with every valid message on `subject`; invalid ones are logged and dropped. */
  subscribe(
    subject: string,
    handler: (message: AgentMessage, raw: Msg) => void | Promise<void>,
    options: { queue?: string } = {},
  ): Subscription {
    return this.nc.subscribe(subject, {
      queue: options.queue,
      callback: (error, raw) => {
        if (error) return this.log.error('subscription failed', { subject, error: error.message });
        const message = this.decode(raw);
        if (!message) return;
        Promise.resolve()
          .then(() => handler(message, raw))
          .catch((e: unknown) => this.log.error('handler failed', { subject, error: String(e) }));
      },
    });
  }

  /**
   * Hands each message of `stream` to `handler` (with the time it was
   * published) through the durable consumer `durable`, which the server keeps
   * while its reader is away, and acknowledges it once handled; one the
   * handler throws on comes back after REDELIVER_AFTER_MS. Returns how to stop.
   */
  async consume(
    stream: string,
    durable: string,
    handler: (message: AgentMessage, published: Date) => Promise<void>,
  ): Promise<() => void> {
    await (await this.manager()).consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit });
    const messages = await (await this.js.consumers.get(stream, durable)).consume();
    void (async () => {
      for await (const raw of messages) await this.handle(raw, stream, handler);
    })();
    return () => void messages.stop();
  }

  private async handle(
    raw: JsMsg,
    stream: string,
    handler: (message: AgentMessage, published: Date) => Promise<void>,
  ): Promise<void> {
    const message = this.decode(raw);
    if (!message) return raw.term(); // logged by decode; never valid, so never delivered again
    try {
      const published = new Date(raw.info.timestampNanos / 1e6);
      const headers = raw.headers ?? { get: () => '' };
      await continuedFrom(headers, `process ${raw.subject}`, () => handler(message, published));
      raw.ack();
    } catch (error) {
      this.log.error('handler failed', { stream, error: String(error) });
      raw.nak(REDELIVER_AFTER_MS);
    }
  }

  /** Request/reply: sends a message and returns the validated reply. */
  async request(message: AgentMessage, options: { timeoutMs: number; subject?: string }): Promise<AgentMessage> {
    const valid = parse(AgentMessage, message, `${message.type ?? 'message'} message`);
    const reply = await this.nc.request(options.subject ?? subjectOf(valid), codec.encode(valid), {
      timeout: options.timeoutMs,
    });
    const answer = this.decode(reply, { reply: true });
    if (!answer) throw new Error(`invalid reply on ${reply.subject}`);
    return answer;
  }

  /**
   * Publishes `message` and returns the first message on `subject` that
   * `accept` takes within `timeoutMs`, or undefined: for answers an agent
   * sends in its own name, which a reply to an inbox cannot carry.
   */
  ask(
    message: AgentMessage,
    subject: string,
    accept: (answer: AgentMessage) => boolean,
    timeoutMs: number,
  ): Promise<AgentMessage | undefined> {
    return new Promise((resolve, reject) => {
      const done = (answer?: AgentMessage) => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(answer);
      };
      const timer = setTimeout(done, timeoutMs);
      // Subscribed before the question goes out: the server sees the two in order.
      const sub = this.subscribe(subject, (answer) => void (accept(answer) && done(answer)));
      this.publish(message).catch((error: Error) => {
        done();
        reject(error);
      });
    });
  }

  /** Answers requests on `subject` (a queue group shares the load); a handler returning undefined stays silent. */
  reply(
    subject: string,
    handler: (message: AgentMessage) => Promise<AgentMessage | undefined>,
    options: { queue?: string } = {},
  ): Subscription {
    return this.subscribe(
      subject,
      async (message, raw) => {
        const answer = await handler(message);
        if (answer) raw.respond(codec.encode(parse(AgentMessage, answer, `${answer.type} reply`)));
      },
      options,
    );
  }

  /** Replays stored task events (oldest first, or from `since`), then keeps following when `follow` is set, until `signal` aborts. */
  async *events(
    options: { subject?: string; follow?: boolean; since?: Date; signal?: AbortSignal } = {},
  ): AsyncGenerator<StoredEvent> {
    // An ephemeral pull consumer: nats.js ordered consumers need nats-server 2.10, Debian ships 2.9.
    const jsm = await this.manager();
    const created = await jsm.consumers.add(TASK_STREAM.name, {
      filter_subject: options.subject ?? TASK_STREAM.subjects[0],
      ...(options.since
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: options.since.toISOString() }
        : { deliver_policy: DeliverPolicy.All }),
      ack_policy: AckPolicy.None,
      inactive_threshold: nanos(60_000),
    });
    try {
      if (!options.follow && created.num_pending === 0) return;
      const consumer = await this.js.consumers.get(TASK_STREAM.name, created.name);
      const messages = await consumer.consume();
      options.signal?.addEventListener('abort', () => void messages.stop(), { once: true });
      for await (const raw of messages) {
        const message = this.decode(raw);
        if (message) {
          const msgId = raw.headers?.get('Nats-Msg-Id') || undefined;
          yield { seq: raw.seq, subject: raw.subject, msgId, time: new Date(raw.info.timestampNanos / 1e6), message };
        }
        if (!options.follow && raw.info.pending === 0) break;
      }
      messages.stop();
    } finally {
      await jsm.consumers.delete(TASK_STREAM.name, created.name).catch(() => undefined);
    }
  }

  /** Messages stored in the task stream, optionally for one subject. */
  async storedCount(subject?: string): Promise<number> {
    const info = await (
      await this.manager()
    ).streams.info(TASK_STREAM.name, subject ? { subjects_filter: subject } : undefined);
    if (!subject) return info.state.messages;
    return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  }

  /** Resolves once the server has seen everything sent so far (subscriptions included). */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain();
  }

  /** The message, if it is valid JSON of a valid type, on its own subject (a reply comes on the asker's inbox). */
  private decode(raw: { subject: string; data: Uint8Array }, { reply = false } = {}): AgentMessage | undefined {
    let body: unknown;
    try {
      body = codec.decode(raw.data);
    } catch {
      this.log.warn('dropped message: not JSON', { subject: raw.subject });
      return undefined;
    }
    const result = AgentMessage.safeParse(body);
    if (!result.success) {
      this.log.warn('dropped invalid message', {
        subject: raw.subject,
        reason: describeIssues(result.error).join('; '),
      });
      return undefined;
    }
    // NATS lets an agent publish only on subjects ending in its own id; one naming another agent inside is forged.
    // (The spec's bare subjects hold what was stored before, and only the control plane may publish there.)
    const message = result.data;
    if (reply || raw.subject === subjectOf(message) || raw.subject === SUBJECTS[message.type]) return message;
    this.log.warn('dropped message sent in another name', { subject: raw.subject, expected: subjectOf(message) });
    return undefined;
  }
}

/** Replies come back under the connection's own prefix, named in its credentials (see src/bus/nats-credentials.ts). */
const inboxPrefixOf = (creds: Uint8Array) => {
  const jwt = /-----BEGIN NATS USER JWT-----\s*(\S+)/.exec(new TextDecoder().decode(creds))?.[1];
  return jwt ? inboxPrefix(decodeJwt<unknown>(jwt).name) : undefined;
};

/** Asks the roles named for help; the first offer made to the asker (in its maker's own name), or undefined after `timeoutMs`. */
export async function askForHelp(
  bus: EventBus,
  request: MessageOf<'RequestHelp'>,
  timeoutMs: number,
): Promise<MessageOf<'HelpOffered'> | undefined> {
  const offer = await bus.ask(
    request,
    subjectsOf('HelpOffered'),
    (m) => m.type === 'HelpOffered' && m.to_agent === request.from_agent,
    timeoutMs,
  );
  return offer as MessageOf<'HelpOffered'> | undefined;
}
