import { createServer, type Server } from 'node:http';
import type { AgentInstance, AgentMetadata } from '../domain';
import type { RegistryStore } from '../registry/registry-store';
import type { Logger } from '../logger';

/** An agent as `vapora agent list|show` shows it: its registry record and its running instance. */
export type AgentView = AgentMetadata & { instance?: AgentInstance };

/**
 * Read-only HTTP view of the registry, served by the control-plane worker:
 * the embedded SurrealDB can be opened by one process only, so the CLI reads
 * through here. Writes go through Temporal workflows, never through this API.
 */
export function serveRegistryApi(registry: RegistryStore, port: number, log: Logger): Promise<Server> {
  const routes: [RegExp, (match: RegExpMatchArray) => Promise<unknown>][] = [
    [/^\/v1\/agents$/, async () => Promise.all((await registry.agents.list()).map((a) => withInstance(registry, a)))],
    [/^\/v1\/agents\/([\w.-]+)$/, async (m) => {
      const agent = await registry.agents.get(m[1]!);
      return agent && withInstance(registry, agent);
    }],
    [/^\/v1\/manifests$/, () => registry.manifests.list()],
    [/^\/v1\/manifests\/([\w.-]+)$/, (m) => registry.manifests.get(m[1]!)],
  ];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = req.method === 'GET' ? routes.map(([re, fn]) => [path.match(re), fn] as const).find(([m]) => m) : undefined;
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (!route) return reply(404, { error: `no route for ${req.method} ${path}` });
    route[1](route[0]!).then(
      (body) => (body === undefined ? reply(404, { error: `not found: ${path}` }) : reply(200, body)),
      (error: Error) => {
        log.error('registry API failed', { path, error: error.message });
        reply(500, { error: error.message });
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function withInstance(registry: RegistryStore, agent: AgentMetadata): Promise<AgentView> {
  const instance = await registry.instances.get(agent.id);
  return instance ? { ...agent, instance } : agent;
}
