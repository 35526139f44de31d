import { AlreadyExistsError, ServerError, Surreal, createRemoteEngines, isRetryableConflict } from 'surrealdb';
import { createNodeEngines } from '@surrealdb/node';
import { z } from 'zod';
import {
  AgentInstance,
  AgentMetadata,
  AgentManifest,
  Artifact,
  CatalogRecord,
  Decision,
  Knowledge,
  PoolUpgrade,
  TaskRecord,
  parse,
  statusLabel,
  AgentRole,
} from '../domain';
import { SCHEMA, type Table } from './registry-schema';
import { PASSAGE_SCHEMA, PassageIndex } from './passage-index';
import type { Queries } from './queries';
import type { Embedder } from '../llm/embedding-model';
import type { Logger } from '../logger';

export interface RegistryOptions {
  /** `mem://`, `surrealkv://path` (embedded) or `ws://host:port` (a server): one code path for all. */
  url: string;
  namespace: string;
  database: string;
  username?: string;
  password?: string;
}

/** How passages are found besides their words: an embedding model, and where its failures are logged. */
export interface Retrieval {
  embedder?: Embedder;
  log?: Logger;
}

type Columns = Record<string, string | undefined>;

/**
 * A write conflict between concurrent transactions, which the SDK then runs
 * again. SurrealDB 3.1 reports it as a structured QueryError (the SDK's own
 * predicate); the embedded engine @surrealdb/node 3.0.3, the newest on npm,
 * still reports a ServerError whose text is all it carries (an InternalError or
 * a QueryError without details), matched as the SDK documents for servers
 * before 3.1. Drop the second test with that engine.
 */
const isWriteConflict = (error: unknown) =>
  isRetryableConflict(error) || (error instanceof ServerError && error.message.includes('can be retried'));

/** The records of one table under some keys, as a part of a query that reads several tables (readTogether). */
export interface ManyRead<T> {
  table: Table;
  keys: string[];
  /** The stored docs, in the keys' order (null where there is none), validated. */
  parse(docs: unknown[]): (T | undefined)[];
}

type ReadResults<R extends ManyRead<unknown>[]> = {
  [I in keyof R]: R[I] extends ManyRead<infer T> ? (T | undefined)[] : never;
};

/** Several tables' records under their keys, in one query (none when there are no keys). */
export async function readTogether<R extends ManyRead<unknown>[]>(db: Queries, reads: [...R]): Promise<ReadResults<R>> {
  const asked = reads.map(({ table, keys }) => ({ table, keys }));
  const [docs] = asked.some((read) => read.keys.length)
    ? await db
        .query<[unknown[][]]>(
          'RETURN array::map($reads, |$read| array::map($read.keys, |$key| (SELECT VALUE doc FROM ONLY type::record($read.table, $key))))',
          { reads: asked },
        )
        .json()
        .collect()
    : [asked.map(() => [])];
  return reads.map((read, i) => read.parse(docs[i] ?? [])) as ReadResults<R>;
}

/** One table: validated records in, validated records out, parameterized SurrealQL only. */
export class Collection<S extends z.ZodType, F extends Columns> {
  private readonly pending = new Map<string, Promise<unknown>>();
  /** The schema of `setFields`, made once: zod compiles a parser for each schema it is first given. */
  private partial?: z.ZodType;

  constructor(
    private readonly db: Queries,
    readonly table: Table,
    private readonly schema: S,
    private readonly keyOf: (record: z.infer<S>) => string,
    private readonly columnsOf: (record: z.infer<S>) => F,
    /** Keeps what is derived from a record (its search passages) in step with it. */
    private readonly derived?: { put(record: z.infer<S>): Promise<void>; remove(key: string): Promise<void> },
  ) {}

  async put(value: z.input<S>): Promise<z.infer<S>> {
    return (await this.write('UPSERT', value))!;
  }

  /** Writes a record only if there is none under its key: undefined when one is there already, which stays. */
  async add(value: z.input<S>): Promise<z.infer<S> | undefined> {
    return this.write('CREATE', value).catch((error: unknown) => {
      if (error instanceof AlreadyExistsError) return undefined;
      throw error;
    });
  }

  /**
   * Writes a validated record: UPSERT creates or replaces it, UPDATE only replaces one still there (undefined
   * otherwise), CREATE only makes a new one (and fails when there is one).
   */
  private async write(statement: 'UPSERT' | 'UPDATE' | 'CREATE', value: z.input<S>): Promise<z.infer<S> | undefined> {
    const record = parse(this.schema, value, this.table);
    const { key, content } = this.row(record);
    const [written] = await this.db
      .query<[unknown[]]>(`${statement} type::record($tb, $key) CONTENT $content RETURN VALUE id`, {
        tb: this.table,
        key,
        content,
      })
      .collect();
    if (!written.length) return undefined;
    await this.derived?.put(record);
    return record;
  }

  /** Writes several validated records (creating or replacing each) in one query, then what each derives, in order. */
  async putMany(values: z.input<S>[]): Promise<z.infer<S>[]> {
    const records = values.map((value) => parse(this.schema, value, this.table));
    if (!records.length) return [];
    await this.db
      .query('FOR $row IN $rows { UPSERT type::record($tb, $row.key) CONTENT $row.content RETURN NONE; }', {
        tb: this.table,
        rows: records.map((record) => this.row(record)),
      })
      .collect();
    for (const record of records) await this.derived?.put(record);
    return records;
  }

  /** A record validated and as stored, for a write made with others' in one transaction (see RegistryStore). */
  rowOf(value: z.input<S>) {
    return this.row(parse(this.schema, value, this.table));
  }

  /** A record as stored: under its key, with its indexed columns beside it. */
  private row(record: z.infer<S>) {
    return { key: this.keyOf(record), content: { ...this.columnsOf(record), doc: record } };
  }

  async get(key: string): Promise<z.infer<S> | undefined> {
    const [doc] = await this.db
      .query<[unknown]>('SELECT VALUE doc FROM ONLY type::record($tb, $key)', { tb: this.table, key })
      .json()
      .collect();
    return doc == null ? undefined : parse(this.schema, doc, `${this.table} ${key}`);
  }

  /** The records under `keys`, in their order (undefined where there is none), in one query. */
  async getMany(keys: string[]): Promise<(z.infer<S> | undefined)[]> {
    const [found] = await readTogether(this.db, [this.readMany(keys)]);
    return found;
  }

  /** What getMany reads, to be read with other tables' in one query (see readTogether). */
  readMany(keys: string[]): ManyRead<z.infer<S>> {
    return {
      table: this.table,
      keys,
      parse: (docs) =>
        docs.map((doc, i) => (doc == null ? undefined : parse(this.schema, doc, `${this.table} ${keys[i]}`))),
    };
  }

  /** Records whose indexed columns equal every given value, in key order. */
  async list(
    filter: Partial<F> = {},
    extraWhere?: { clause: string; vars: Record<string, unknown> },
  ): Promise<z.infer<S>[]> {
    const { where, vars } = this.where(filter, extraWhere);
    const [rows] = await this.db
      .query<[{ doc: unknown }[]]>(`SELECT id, doc FROM type::table($tb)${where} ORDER BY id`, vars)
      .json()
      .collect();
    return rows.map((row) => parse(this.schema, row.doc, this.table));
  }

  /** How many records match, without reading them. */
  async count(filter: Partial<F> = {}): Promise<number> {
    const { where, vars } = this.where(filter);
    const [rows] = await this.db
      .query<[{ count: number }[]]>(`SELECT count() FROM type::table($tb)${where} GROUP ALL`, vars)
      .json()
      .collect();
    return rows[0]?.count ?? 0;
  }

  /** Whether any record matches: the first one found ends the search, where count() visits every match. */
  async some(filter: Partial<F> = {}): Promise<boolean> {
    return (await this.firstFound('id', filter)) !== undefined;
  }

  /** A record that matches, whichever is found first (the search ends there), or undefined. */
  async anyOf(filter: Partial<F>): Promise<z.infer<S> | undefined> {
    const doc = await this.firstFound('doc', filter);
    return doc === undefined ? undefined : parse(this.schema, doc, this.table);
  }

  private async firstFound(field: 'id' | 'doc', filter: Partial<F>): Promise<unknown> {
    const { where, vars } = this.where(filter);
    const [found] = await this.db
      .query<[unknown[]]>(`SELECT VALUE ${field} FROM type::table($tb)${where} LIMIT 1`, vars)
      .json()
      .collect();
    return found[0];
  }

  private where(filter: Partial<F>, extraWhere?: { clause: string; vars: Record<string, unknown> }) {
    const vars: Record<string, unknown> = { tb: this.table, ...extraWhere?.vars };
    const clauses = Object.entries(filter)
      .filter(([, v]) => v !== undefined)
      .map(([column, value]) => {
        // Column names come from the typed filter (code), values are always bound.
        if (!/^[a-z_]+$/.test(column)) throw new Error(`not a column: ${column}`);
        vars[`f_${column}`] = value;
        return `${column} = $f_${column}`;
      });
    if (extraWhere) clauses.push(extraWhere.clause);
    return { where: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', vars };
  }

  /**
   * Applies `change` to the stored record (validated before it is written), or
   * returns undefined when there is none. Updates and removals of one key in
   * this process run one after another, so concurrent read-modify-writes lose
   * nothing; and an update never brings back a record removed meanwhile (by
   * another process too), as a health check finishing after an uninstall did.
   */
  update(key: string, change: (current: z.infer<S>) => z.input<S>): Promise<z.infer<S> | undefined> {
    return this.inTurn(key, async () => {
      const current = await this.get(key);
      return current === undefined ? undefined : this.write('UPDATE', change(current));
    });
  }

  /**
   * Sets some fields of many records in one query, leaving the rest as stored; a record removed meanwhile stays
   * removed. Only for fields that no column and no derived passage is made of, and only on object records.
   */
  async setFields(changes: { key: string; fields: Partial<z.infer<S>> }[]): Promise<void> {
    if (!(this.schema instanceof z.ZodObject)) throw new Error(`${this.table}: setFields needs an object schema`);
    const fields = (this.partial ??= this.schema.partial());
    const checked = changes.map(({ key, fields: f }) => ({ key, fields: parse(fields, f, `${this.table} ${key}`) }));
    if (!checked.length) return;
    const write = (some: typeof checked) =>
      this.db
        .query('FOR $c IN $changes { UPDATE type::record($tb, $c.key) MERGE { doc: $c.fields } RETURN NONE; }', {
          tb: this.table,
          changes: some,
        })
        .collect();
    await write(checked).catch(async (error: unknown) => {
      // One transaction of many records conflicts with any other write of one of them meanwhile, again on each of the
      // SDK's tries when a scale writes hundreds of them: then each record in a transaction of its own.
      if (!isWriteConflict(error) || checked.length === 1) throw error;
      await Promise.all(checked.map((change) => write([change])));
    });
  }

  remove(key: string): Promise<boolean> {
    return this.inTurn(key, async () => {
      const [deleted] = await this.db
        .query<[unknown[]]>('DELETE type::record($tb, $key) RETURN BEFORE', { tb: this.table, key })
        .json()
        .collect();
      if (deleted.length) await this.derived?.remove(key);
      return deleted.length > 0;
    });
  }

  /** Runs `step` after every earlier update or removal of `key` in this process has settled. */
  private inTurn<T>(key: string, step: () => Promise<T>): Promise<T> {
    const next = (this.pending.get(key) ?? Promise.resolve()).then(step);
    const settled = next.catch(() => undefined);
    this.pending.set(key, settled);
    void settled.then(() => this.pending.get(key) === settled && this.pending.delete(key));
    return next;
  }
}

/** Where an agent serves its health and metrics, with its role: an entry of Prometheus's file of targets. */
export const AgentEndpoint = AgentInstance.pick({ agent_id: true, ip: true, port: true }).extend({ role: AgentRole });
export type AgentEndpoint = z.infer<typeof AgentEndpoint>;

/** The key of one version of a manifest in `manifestVersions`. */
export const manifestKey = (id: string, version: string) => `${id}@${version}`;

/** A key's scope is what comes before its last "/": `feature-1/architect` belongs to `feature-1`. */
export const scopeOf = (key: string) => (key.includes('/') ? key.slice(0, key.lastIndexOf('/')) : key);

/** Expired entries are purged on write, at most this often (a purge scans the table). */
const PURGE_EVERY_MS = 60_000;
/** How many entries this store remembers having shared (see KnowledgeStore.lastShared). */
const REMEMBERED_SHARES = 1_000;

/** Shared knowledge with a time to live: expired entries are invisible, and purged on write now and then. */
export class KnowledgeStore {
  private readonly entries: Collection<
    typeof Knowledge,
    { context_type: string; from_agent: string; expires_at: string; scope: string }
  >;
  private lastPurge = 0;
  /** What this store shared last, by key, oldest first. */
  private readonly shared = new Map<string, Knowledge>();

  constructor(
    private readonly db: Queries,
    private readonly passages: PassageIndex,
  ) {
    this.entries = new Collection(
      db,
      'knowledge',
      Knowledge,
      (k) => k.key,
      (k) => ({
        context_type: k.context_type,
        from_agent: k.from_agent,
        expires_at: k.expires_at,
        scope: scopeOf(k.key),
      }),
    );
  }

  /**
   * Stores an entry and makes it searchable. One that restates an artifact stored with it (`storedWith`: it names
   * the artifact as `data.artifact`, and its text is the artifact's own words, as an agent's result summary is) is
   * found through that artifact instead: indexed twice, every search for it would spend a second hit on the same
   * words.
   */
  async share(
    entry: Omit<Knowledge, 'created_at' | 'expires_at'> & { ttl_minutes: number },
    {
      now = new Date(),
      storedWith = [],
      replacing = true,
    }: {
      now?: Date;
      storedWith?: Artifact[];
      /** False when the caller read the key and found no live entry there: nothing of an earlier one to clear. */
      replacing?: boolean;
    } = {},
  ): Promise<Knowledge> {
    if (now.getTime() - this.lastPurge >= PURGE_EVERY_MS) await this.purgeExpired(now);
    const { ttl_minutes, ...rest } = entry;
    const k = await this.entries.put({
      ...rest,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttl_minutes * 60_000).toISOString(),
    });
    this.shared.delete(k.key);
    this.shared.set(k.key, k);
    const [oldest] = this.shared.keys();
    if (oldest !== undefined && this.shared.size > REMEMBERED_SHARES) this.shared.delete(oldest);
    const source = `knowledge:${k.key}`;
    const text = textOf(k.data);
    // Found through its artifact, it keeps no passages of its own: what an earlier entry under the key left goes.
    // (An entry that expired unread may leave passages until the purge; searches pass over them.)
    if (restates(k.data, text, storedWith)) {
      if (replacing) await this.passages.remove(source);
    } else
      await this.passages.index(
        {
          source,
          kind: k.context_type,
          title: `${k.context_type} from ${k.from_agent}`,
          feature_id: scopeOf(k.key),
          author: k.from_agent,
          expires_at: k.expires_at,
        },
        text,
      );
    return k;
  }

  async get(key: string, now = new Date()): Promise<Knowledge | undefined> {
    return (await this.getMany([key], now))[0];
  }

  /**
   * The live entry under `key` when this store shared it last (of its latest REMEMBERED_SHARES), without a query;
   * else as stored. An agent broadcasts what it stored through the API, and the plane that stored it takes the
   * broadcast in (see context-intake): this is how it knows the entry is there already.
   */
  async lastShared(key: string, now = new Date()): Promise<Knowledge | undefined> {
    const mine = this.shared.get(key);
    return mine && mine.expires_at > now.toISOString() ? mine : this.get(key, now);
  }

  /** The live entries under `keys`, in their order (undefined where there is none), in one query. */
  async getMany(keys: string[], now = new Date()): Promise<(Knowledge | undefined)[]> {
    const [found] = await readTogether(this.db, [this.readMany(keys, now)]);
    return found;
  }

  /** What getMany reads, to be read with other tables' in one query (see readTogether). */
  readMany(keys: string[], now = new Date()): ManyRead<Knowledge> {
    const read = this.entries.readMany(keys);
    return {
      ...read,
      parse: (docs) =>
        read.parse(docs).map((entry) => (entry && entry.expires_at > now.toISOString() ? entry : undefined)),
    };
  }

  /** Live entries, optionally only those of a type, of a scope (see scopeOf), or addressed to a role (an empty `to_roles` is for everyone). */
  async list(
    filter: { context_type?: string; role?: AgentRole; scope?: string } = {},
    now = new Date(),
  ): Promise<Knowledge[]> {
    const live = await this.entries.list(
      { context_type: filter.context_type, scope: filter.scope },
      { clause: 'expires_at > $now', vars: { now: now.toISOString() } },
    );
    const role = filter.role;
    return role ? live.filter((k) => k.to_roles.length === 0 || k.to_roles.includes(role)) : live;
  }

  async remove(key: string): Promise<boolean> {
    this.shared.delete(key);
    const removed = await this.entries.remove(key);
    if (removed) await this.passages.remove(`knowledge:${key}`);
    return removed;
  }

  async purgeExpired(now = new Date()): Promise<void> {
    this.lastPurge = now.getTime();
    // Not through Collection: a bulk delete by an indexed column, still fully parameterized.
    await this.db.query('DELETE knowledge WHERE expires_at <= $now', { now: now.toISOString() }).collect();
    await this.passages.purgeExpired(now);
  }
}

/** What a knowledge entry says, as text to search: its summary when it has one, else its data. */
function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  const summary = (data as { summary?: unknown } | null)?.summary;
  return typeof summary === 'string' ? summary : JSON.stringify(data);
}

/** Whether knowledge says only what an artifact of `artifacts` says: it names it, and `text` is in its words. */
function restates(data: unknown, text: string, artifacts: Artifact[]): boolean {
  const named = (data as { artifact?: unknown } | null)?.artifact;
  const flat = (words: string) => words.replace(/\s+/g, ' ').trim();
  return artifacts.some((a) => a.id === named && flat(a.content).includes(flat(text)));
}

/** The registry and shared context of the spec, kept in SurrealDB. */
export class RegistryStore {
  readonly manifests;
  /** Every version of every manifest the marketplace has seen, for upgrades and rollbacks (`<id>@<version>`). */
  readonly manifestVersions;
  readonly upgrades;
  /** The catalogs manifests came from, and the keys they must be signed with. */
  readonly catalogs;
  readonly agents;
  readonly instances;
  readonly tasks;
  readonly decisions;
  readonly artifacts;
  readonly knowledge;
  readonly passages: PassageIndex;
  private queryCount = 0;
  /** The connection's queries, counted. */
  private readonly db: Queries;

  private constructor(
    private readonly connection: Surreal,
    retrieval: Retrieval,
  ) {
    const db: Queries = {
      query: ((...args: Parameters<Surreal['query']>) => {
        this.queryCount++;
        return connection.query(...args);
      }) as Surreal['query'],
    };
    this.db = db;
    this.passages = new PassageIndex(db, retrieval.embedder, retrieval.log);
    this.manifests = new Collection(
      db,
      'manifest',
      AgentManifest,
      (m) => m.id,
      (m) => ({
        role: m.role,
        version: m.version,
        name: m.name,
      }),
    );
    this.manifestVersions = new Collection(
      db,
      'manifest_version',
      AgentManifest,
      (m) => manifestKey(m.id, m.version),
      (m) => ({ manifest_id: m.id, version: m.version }),
    );
    this.upgrades = new Collection(
      db,
      'upgrade',
      PoolUpgrade,
      (u) => u.id,
      (u) => ({ manifest_id: u.manifest_id, outcome: u.outcome }),
    );
    this.catalogs = new Collection(
      db,
      'catalog',
      CatalogRecord,
      (c) => c.name,
      (c) => ({ name: c.name }),
    );
    this.agents = new Collection(
      db,
      'agent',
      AgentMetadata,
      (a) => a.id,
      (a) => ({
        role: a.role,
        manifest_id: a.manifest_id,
        status: statusLabel(a.status),
      }),
    );
    this.instances = new Collection(
      db,
      'instance',
      AgentInstance,
      (i) => i.agent_id,
      (i) => ({ pod_id: i.pod_id }),
    );
    this.tasks = new Collection(
      db,
      'task',
      TaskRecord,
      (t) => t.id,
      (t) => ({
        role: t.role,
        status: t.status,
        feature_id: t.feature_id,
        agent_id: t.agent_id,
      }),
    );
    this.decisions = new Collection(
      db,
      'decision',
      Decision,
      (d) => d.id,
      (d) => ({
        decision_type: d.decision_type,
        task_id: d.task_id,
        feature_id: d.feature_id,
      }),
    );
    this.artifacts = new Collection(
      db,
      'artifact',
      Artifact,
      (a) => a.id,
      (a) => ({
        kind: a.kind,
        feature_id: a.feature_id,
        task_id: a.task_id,
      }),
      {
        // A task's conversation (prompts, tool results) is working state, not something to cite.
        put: (a) =>
          a.kind === 'conversation'
            ? Promise.resolve()
            : this.passages.index(
                {
                  source: `artifact:${a.id}`,
                  kind: a.kind,
                  title: a.title,
                  feature_id: a.feature_id,
                  author: a.task_id,
                },
                a.content,
              ),
        remove: (id) => this.passages.remove(`artifact:${id}`),
      },
    );
    this.knowledge = new KnowledgeStore(db, this.passages);
  }

  static async open(options: RegistryOptions, retrieval: Retrieval = {}): Promise<RegistryStore> {
    const db = new Surreal({ engines: { ...createRemoteEngines(), ...createNodeEngines() } });
    const authentication =
      options.username && options.password ? { username: options.username, password: options.password } : undefined;
    await db.connect(options.url, {
      namespace: options.namespace,
      database: options.database,
      authentication,
      retry: { attempts: 5, retryDelay: 5, retryDelayMax: 200, retryable: isWriteConflict },
    });
    await db.use({ namespace: options.namespace, database: options.database });
    await db.query(SCHEMA + PASSAGE_SCHEMA).collect();
    return new RegistryStore(db, retrieval);
  }

  /**
   * Closes the connection. The embedded engine (@surrealdb/node 3.0.3) keeps a
   * native handle that holds the process open once an index exists, so entry
   * points exit explicitly when they are done.
   */
  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * A task attempt's end in one transaction: its record, and the counters of the agent that ran it, added up on the
   * stored instance, so ends recorded at once all count (an instance removed meanwhile stays removed). The
   * average duration is of the completed tasks whose duration is known.
   */
  async recordTaskEnd(
    task: z.input<typeof TaskRecord>,
    end: { agent_id: string; succeeded: boolean; duration_ms?: number; tokens: number; cost_usd: number },
  ): Promise<void> {
    const { key, content } = this.tasks.rowOf(task);
    const timed = end.succeeded && end.duration_ms !== undefined;
    await this.db
      .query(
        `BEGIN;
         UPDATE type::record($instances, $agent) SET
           doc.avg_task_duration_ms = IF $timed
             THEN math::round(<float> (doc.avg_task_duration_ms * doc.tasks_completed + $duration) / (doc.tasks_completed + 1))
             ELSE doc.avg_task_duration_ms END,
           doc.tasks_completed += $completed,
           doc.tasks_failed += $failed,
           doc.tokens_used += $tokens,
           doc.cost_incurred += $cost
           RETURN NONE;
         UPSERT type::record($tasks, $key) CONTENT $content RETURN NONE;
         COMMIT;`,
        {
          instances: this.instances.table,
          tasks: this.tasks.table,
          agent: end.agent_id,
          timed,
          duration: timed ? end.duration_ms : 0,
          completed: end.succeeded ? 1 : 0,
          failed: end.succeeded ? 0 : 1,
          tokens: end.tokens,
          cost: end.cost_usd,
          key,
          content,
        },
      )
      .collect();
  }

  /**
   * Every instance's address with its agent's role, in instance order; an instance whose agent is gone (being
   * removed) is left out. Three fields of each instance and one of each agent: the whole records of a fleet of 1000
   * were most of what a rewrite of Prometheus's targets cost.
   */
  async agentEndpoints(): Promise<AgentEndpoint[]> {
    const [instances, agents] = await this.db
      .query<[{ agent_id: string }[], { id: string; role: string }[]]>(
        'SELECT id, doc.agent_id AS agent_id, doc.ip AS ip, doc.port AS port FROM instance ORDER BY id; ' +
          'SELECT doc.id AS id, role FROM agent',
      )
      .json()
      .collect();
    const roles = new Map(agents.map((a) => [a.id, a.role]));
    return instances.flatMap((i) =>
      roles.has(i.agent_id) ? [parse(AgentEndpoint, { ...i, role: roles.get(i.agent_id) }, 'instance')] : [],
    );
  }

  /** Several tables' records under their keys (each collection's `readMany`), in one query. */
  readTogether<R extends ManyRead<unknown>[]>(...reads: [...R]): Promise<ReadResults<R>> {
    return readTogether(this.db, reads);
  }

  /** Queries this store has made since it opened: what a task costs SurrealDB, counted (its metrics, the bench). */
  get queries(): number {
    return this.queryCount;
  }
}
