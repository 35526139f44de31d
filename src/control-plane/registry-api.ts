import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { zValidator } from '@hono/zod-validator';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { z } from 'zod';
import {
  ArtifactFilter,
  ContextQuery,
  DecisionFilter,
  type ArtifactSummary,
  KnowledgeFilter,
  NewCatalog,
  TrustedKey,
  type ManifestHistory,
  NewArtifact,
  NewKnowledge,
  NewWrites,
  type WritesDone,
  TaskFilter,
  type AgentView,
} from '../contracts/registry-api';
import { ValidationError, describeIssues, type AgentMetadata } from '../domain';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import type { RegistryStore } from '../registry/registry-store';
import { gitHttp } from './git-http';
import { Marketplace } from '../marketplace/marketplace';
import { Catalogs } from './catalogs';
import { mayActAs, writerOf, type ApiAuth, type Identity } from './api-auth';

const MAX_BODY = 8 * 1024 * 1024;
const limited = bodyLimit({
  maxSize: MAX_BODY,
  onError: (c) => c.json({ error: `invalid request body:\n  - body: larger than ${MAX_BODY} bytes` }, 413),
});

/** Checks a body or query with its schema; a refusal names every bad field, as everywhere else. */
const valid = <T extends z.ZodType>(target: 'json' | 'query', schema: T, subject: string) =>
  zValidator(target, schema, (result, c) => {
    if (!result.success) {
      const error = new ValidationError(subject, describeIssues(result.error, subject));
      return c.json({ error: error.message }, 400);
    }
  });

// Hono reads a body as JSON only under this media type (its own pattern), and as {} otherwise.
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;
/** A body that is not said to be JSON is refused as such: read as {}, every field would be reported missing. */
const jsonBody = createMiddleware(async (c, next) => {
  if (!JSON_TYPE.test((c.req.header('content-type') ?? '').split(';')[0]!.trim()))
    return c.json({ error: 'the body must be JSON, sent with Content-Type: application/json' }, 415);
  await next();
});

/** A catalog that cannot be read, or fails its digests or signature, is the caller's to fix: 422 with the reasons. */
const refusable = async (c: Context, work: () => Promise<unknown>) => {
  try {
    return c.json(await work());
  } catch (error) {
    return c.json({ error: (error as Error).message }, 422);
  }
};

/** A record, or a 404 naming what is missing. */
const found = <T>(c: Context, value: T | undefined) =>
  value === undefined ? c.json({ error: `not found: ${c.req.path}` }, 404) : c.json(value);

/** Writes as checked: every field parsed. */
type Writes = z.output<typeof NewWrites>;

/** A write's handler knows who makes it. */
type ApiEnv = { Variables: { who: Identity } };

/** What the API serves beside the registry, where the control plane has it. */
export interface ApiParts {
  /** Who may write: the operator's token and the agents' (see api-auth.ts). */
  auth: ApiAuth;
  /** The feature workspaces' directory, served as Git remotes at `/git`. */
  workspaces?: string;
  /** Vapora's MCP server at `/mcp`. */
  mcp?: (request: Request) => Promise<Response>;
  /** The process's metrics, served at `/metrics`; the API counts its requests there. */
  metrics?: Metrics;
  /** nats-server's, at `/metrics/nats` (see src/control-plane/nats-metrics.ts). */
  natsMetrics?: Exposition;
  /** The payload codec for the Web UI, at `/codec` (see src/temporal/codec-server.ts). */
  codec?: Hono;
  /** The console's pages, at `/` (see src/control-plane/console/console-app.ts). */
  consolePages?: Hono;
}

/** What serves Prometheus's text format: a prom-client Registry, or an exporter. */
interface Exposition {
  contentType: string;
  metrics(): Promise<string>;
}

/**
 * HTTP view of the registry, served by the control-plane worker on loopback:
 * the embedded SurrealDB can be opened by one process only, so the CLI and
 * the agents read through here. Agents write only what they produce (artifacts
 * and shared context); fleet and task state change through workflows alone.
 */
export function registryApi(
  registry: RegistryStore,
  log: Logger,
  { auth, workspaces, mcp, metrics, natsMetrics, codec, consolePages }: ApiParts,
): Hono<ApiEnv> {
  const withInstance = async (agent: AgentMetadata): Promise<AgentView> => {
    const instance = await registry.instances.get(agent.id);
    return instance ? { ...agent, instance } : agent;
  };
  /** What each write would replace: the records under its artifact ids and live knowledge keys, in one query. */
  const storedUnder = async ({ artifacts, knowledge }: Writes) => {
    const [artifactsThere, knowledgeThere] = await registry.readTogether(
      registry.artifacts.readMany(artifacts.map((a) => a.id)),
      registry.knowledge.readMany(knowledge.map((k) => k.key)),
    );
    return { artifacts: artifactsThere, knowledge: knowledgeThere };
  };
  /** Why `who` may not make these writes (the first reason), or undefined when it may make them all. */
  const refusal = (
    who: Identity,
    { knowledge }: Writes,
    there: Awaited<ReturnType<typeof storedUnder>>,
  ): string | undefined => {
    for (const entry of knowledge)
      if (!mayActAs(who, entry.from_agent)) return `${writerOf(who)} may not share knowledge as ${entry.from_agent}`;
    // Artifacts written before writers were recorded may be replaced by anyone who may write.
    const theirs = there.artifacts.find((a) => a?.writer && !mayActAs(who, a.writer));
    if (theirs) return `artifact ${theirs.id} is ${theirs.writer}'s: ${writerOf(who)} may not overwrite it`;
    const spoken = there.knowledge.find((k) => k && !mayActAs(who, k.from_agent));
    if (spoken) return `knowledge ${spoken.key} is ${spoken.from_agent}'s: ${writerOf(who)} may not overwrite it`;
  };
  /**
   * Every write checked before any is made, then made in order: artifacts first, as the knowledge may name them.
   * `/v1/writes` takes several (a task step's parts, its result and what it shares): one request instead of many.
   */
  const writeAll = async <T>(c: Context<ApiEnv>, writes: Writes, reply: (done: WritesDone) => T) => {
    const who = c.get('who');
    const there = await storedUnder(writes);
    const refused = refusal(who, writes, there);
    if (refused) return c.json({ error: refused }, 403);
    const created_at = new Date().toISOString();
    const stored = await registry.artifacts.putMany(
      writes.artifacts.map((body) => ({ ...body, writer: writerOf(who), created_at })),
    );
    const done: WritesDone = {
      artifacts: stored.map((a) => ({ id: a.id, kind: a.kind, title: a.title, bytes: Buffer.byteLength(a.content) })),
      knowledge: [],
    };
    for (const [i, entry] of writes.knowledge.entries())
      done.knowledge.push(
        await registry.knowledge.share(entry, { storedWith: stored, replacing: there.knowledge[i] !== undefined }),
      );
    return c.json(reply(done));
  };
  const catalogs = new Catalogs(registry);
  const marketplace = new Marketplace(registry);
  const api = new Hono<ApiEnv>();
  // Counted by the route's pattern, not its path: ids would make a series each.
  if (metrics)
    api.use(async (c, next) => {
      await next();
      metrics.apiRequests.inc({ method: c.req.method, route: routePath(c, -1), status: c.res.status });
    });
  /** Every write names who makes it: 401 without a token this plane issued, 403 for what only the operator may do. */
  const writer = (operatorOnly = false) =>
    createMiddleware<ApiEnv>(async (c, next) => {
      const header = c.req.header('authorization');
      const who = auth.identify(header);
      if (!who)
        return c.json(
          {
            error: header
              ? 'invalid token: it is not one this control plane issued'
              : 'authentication required: send Authorization: Bearer <token> (npx vapora console prints the operator token)',
          },
          401,
        );
      if (operatorOnly && who.kind !== 'operator')
        return c.json({ error: `only the operator may do this (${writerOf(who)} may not)` }, 403);
      c.set('who', who);
      await next();
    });
  // A push to a feature's workspace (its pack comes in this POST) is a write; clones and ref lists are reads.
  api.post('/git/:repo/git-receive-pack', writer());
  api.use('/mcp', writer());
  for (const path of ['/v1/artifacts', '/v1/knowledge', '/v1/writes'])
    api.on(['POST', 'PUT', 'DELETE'], path, writer());
  api.on(['POST', 'PUT', 'DELETE'], ['/v1/catalogs', '/v1/catalogs/*'], writer(true));
  api.on(['POST', 'PUT'], ['/v1/artifacts', '/v1/knowledge', '/v1/writes', '/v1/catalogs', '/v1/catalogs/*'], jsonBody);
  // The feature workspaces as Git remotes, for agents that cannot reach the control plane's disk (pods).
  if (workspaces) api.route('/git', gitHttp(workspaces));
  // Vapora as an MCP server over Streamable HTTP (see src/client/mcp-server.ts).
  if (mcp) api.all('/mcp', (c) => mcp(c.req.raw));
  if (codec) api.route('/codec', codec);
  if (consolePages) api.route('/', consolePages);
  // Prometheus's text format, for its scrapes.
  for (const [path, exposition] of [
    ['/metrics', metrics?.registry],
    ['/metrics/nats', natsMetrics],
  ] as const)
    if (exposition)
      api.get(path, async (c) => c.body(await exposition.metrics(), 200, { 'content-type': exposition.contentType }));
  return api
    .get('/v1/agents', async (c) => c.json(await Promise.all((await registry.agents.list()).map(withInstance))))
    .get('/v1/agents/:id', async (c) => {
      const agent = await registry.agents.get(c.req.param('id'));
      return found(c, agent && (await withInstance(agent)));
    })
    .get('/v1/manifests', async (c) => c.json(await registry.manifests.list()))
    .get('/v1/manifests/:id', async (c) => found(c, await registry.manifests.get(c.req.param('id'))))
    .get('/v1/manifests/:id/history', async (c) => {
      const manifest_id = c.req.param('id');
      const versions = await marketplace.versions(manifest_id);
      const upgrades = await registry.upgrades.list({ manifest_id });
      return found(c, versions.length ? ({ manifest_id, versions, upgrades } satisfies ManifestHistory) : undefined);
    })
    .get('/v1/tasks', valid('query', TaskFilter, 'task filter'), async (c) =>
      c.json(await registry.tasks.list(c.req.valid('query'))),
    )
    .get('/v1/decisions', valid('query', DecisionFilter, 'decision filter'), async (c) =>
      c.json(await registry.decisions.list(c.req.valid('query'))),
    )
    .get('/v1/artifacts', valid('query', ArtifactFilter, 'artifact filter'), async (c) =>
      c.json(
        (await registry.artifacts.list(c.req.valid('query')))
          .filter((a) => a.kind !== 'conversation')
          .map(({ content, ...a }): ArtifactSummary => ({ ...a, bytes: Buffer.byteLength(content) })),
      ),
    )
    .get('/v1/artifacts/:id', async (c) => found(c, await registry.artifacts.get(c.req.param('id'))))
    .get('/v1/context/search', valid('query', ContextQuery, 'context query'), async (c) => {
      const { q, feature_id, k } = c.req.valid('query');
      return c.json(await registry.passages.search({ text: q, feature_id, k }));
    })
    .post('/v1/artifacts', limited, valid('json', NewArtifact, 'artifact'), async (c) =>
      writeAll(c, { artifacts: [c.req.valid('json')], knowledge: [] }, (done) => done.artifacts[0]),
    )
    .get('/v1/knowledge', valid('query', KnowledgeFilter, 'knowledge filter'), async (c) =>
      c.json(await registry.knowledge.list(c.req.valid('query'))),
    )
    .post('/v1/knowledge', limited, valid('json', NewKnowledge, 'knowledge'), async (c) =>
      writeAll(c, { artifacts: [], knowledge: [c.req.valid('json')] }, (done) => done.knowledge[0]),
    )
    .post('/v1/writes', limited, valid('json', NewWrites, 'writes'), async (c) =>
      writeAll(c, c.req.valid('json'), (done) => done),
    )
    .get('/v1/catalogs', async (c) => c.json(await catalogs.list()))
    .post('/v1/catalogs', limited, valid('json', NewCatalog, 'catalog'), async (c) => {
      const { name, source } = c.req.valid('json');
      return refusable(c, () => catalogs.add(name, source));
    })
    .put('/v1/catalogs/:name/trust', limited, valid('json', TrustedKey, 'trust'), async (c) =>
      refusable(c, () => catalogs.trust(c.req.param('name'), c.req.valid('json').public_key)),
    )
    .delete('/v1/catalogs/:name', async (c) =>
      (await catalogs.remove(c.req.param('name'))) ? c.json({ removed: c.req.param('name') }) : found(c, undefined),
    )
    .notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
    .onError((error, c) => {
      // Malformed JSON and bodies over the limit: the caller's mistake, said as such.
      if (error instanceof HTTPException) return c.json({ error: error.message || 'bad request' }, error.status);
      log.error('registry API failed', { path: c.req.path, error: error.message });
      return c.json({ error: error.message }, 500);
    });
}

/** Serves the registry API on `host:port`; resolves once it listens. */
export function serveRegistryApi(
  registry: RegistryStore,
  port: number,
  log: Logger,
  options: ApiParts & { host?: string },
): Promise<Server> {
  const server = createAdaptorServer({ fetch: registryApi(registry, log, options).fetch }) as Server;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '127.0.0.1', () => resolve(server));
  });
}
