import { createServer, type IncomingMessage, type Server } from 'node:http';
import { z } from 'zod';
import {
  AgentRole,
  Artifact,
  Identifier,
  Knowledge,
  TaskStatus,
  ValidationError,
  parse,
  type AgentInstance,
  type AgentMetadata,
  type ArtifactRef,
} from '../domain';
import type { RegistryStore } from '../registry/registry-store';
import type { Logger } from '../logger';

/** An agent as `vapora agent list|show` shows it: its registry record and its running instance. */
export type AgentView = AgentMetadata & { instance?: AgentInstance };

const NewArtifact = Artifact.omit({ created_at: true });
const NewKnowledge = Knowledge.omit({ created_at: true, expires_at: true }).extend({
  ttl_minutes: z.number().int().min(1).max(525_600),
});
const TaskFilter = z.object({
  feature_id: Identifier.optional(),
  status: TaskStatus.optional(),
  role: AgentRole.optional(),
});
const KnowledgeFilter = z.object({
  role: AgentRole.optional(),
  context_type: z.string().min(1).optional(),
  scope: z.string().min(1).optional(),
});
const MAX_BODY = 8 * 1024 * 1024;

type Route = [
  method: 'GET' | 'POST',
  path: RegExp,
  handle: (match: RegExpMatchArray, query: Record<string, string>, body: unknown) => Promise<unknown>,
];

/**
 * HTTP view of the registry, served by the control-plane worker on loopback:
 * the embedded SurrealDB can be opened by one process only, so the CLI and
 * the agents read through here. Agents write only what they produce (artifacts
 * and shared context); fleet and task state change through workflows alone.
 */
export function serveRegistryApi(
  registry: RegistryStore,
  port: number,
  log: Logger,
  host = '127.0.0.1',
): Promise<Server> {
  const routes: Route[] = [
    [
      'GET',
      /^\/v1\/agents$/,
      async () => Promise.all((await registry.agents.list()).map((a) => withInstance(registry, a))),
    ],
    [
      'GET',
      /^\/v1\/agents\/([\w.-]+)$/,
      async (m) => {
        const agent = await registry.agents.get(m[1]!);
        return agent && withInstance(registry, agent);
      },
    ],
    ['GET', /^\/v1\/manifests$/, () => registry.manifests.list()],
    ['GET', /^\/v1\/manifests\/([\w.-]+)$/, (m) => registry.manifests.get(m[1]!)],
    ['GET', /^\/v1\/tasks$/, (_m, q) => registry.tasks.list(parse(TaskFilter, q, 'task filter'))],
    ['GET', /^\/v1\/decisions$/, (_m, q) => registry.decisions.list({ feature_id: q.feature_id, task_id: q.task_id })],
    ['GET', /^\/v1\/artifacts\/([\w.-]+)$/, (m) => registry.artifacts.get(m[1]!)],
    [
      'POST',
      /^\/v1\/artifacts$/,
      async (_m, _q, body) => {
        const a = await registry.artifacts.put({
          ...parse(NewArtifact, body, 'artifact'),
          created_at: new Date().toISOString(),
        });
        return { id: a.id, kind: a.kind, title: a.title, bytes: Buffer.byteLength(a.content) } satisfies ArtifactRef;
      },
    ],
    ['GET', /^\/v1\/knowledge$/, (_m, q) => registry.knowledge.list(parse(KnowledgeFilter, q, 'knowledge filter'))],
    [
      'POST',
      /^\/v1\/knowledge$/,
      async (_m, _q, body) => registry.knowledge.share(parse(NewKnowledge, body, 'knowledge')),
    ],
  ];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const route = routes
      .map(([method, re, fn]) => [method === req.method && url.pathname.match(re), fn] as const)
      .find(([m]) => m);
    if (!route) return reply(404, { error: `no route for ${req.method} ${url.pathname}` });
    readBody(req)
      .then((body) => route[1](route[0] as RegExpMatchArray, Object.fromEntries(url.searchParams), body))
      .then(
        (body) => (body === undefined ? reply(404, { error: `not found: ${url.pathname}` }) : reply(200, body)),
        (error: Error) => {
          if (error instanceof ValidationError) return reply(400, { error: error.message });
          log.error('registry API failed', { path: url.pathname, error: error.message });
          reply(500, { error: error.message });
        },
      );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  if (req.method !== 'POST') return undefined;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ValidationError('request body', [`body: larger than ${MAX_BODY} bytes`]);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ValidationError('request body', ['body: not valid JSON']);
  }
}

async function withInstance(registry: RegistryStore, agent: AgentMetadata): Promise<AgentView> {
  const instance = await registry.instances.get(agent.id);
  return instance ? { ...agent, instance } : agent;
}
