import { retry, whileDown } from '../host/retry';
import { z } from 'zod';
import { SpanKind, inSpan, traceHeaders } from '../observability/tracing';
import {
  AgentView,
  ArtifactSummary,
  ContextHit,
  ManifestHistory,
  type ArtifactFilter,
  type DecisionFilter,
  type KnowledgeFilter,
  type NewCatalog,
  type NewArtifact,
  type NewKnowledge,
  type TaskFilter,
  type NewWrites,
  WritesDone,
} from '../contracts/registry-api';
import { AgentManifest, Artifact, ArtifactRef, CatalogRecord, Decision, Knowledge, TaskRecord, parse } from '../domain';

type Query = Record<string, string | undefined>;

/**
 * Reads (and, for agents, writes artifacts and shared context) through the
 * control-plane worker's API (see src/control-plane/registry-api.ts). Every
 * reply is checked against its schema before anyone trusts it.
 */
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class RegistryClient {
  /** `token`: the caller's bearer token, which writes need (an agent's own, or the operator's). */
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
    /**
     * How long a refused connection is tried again: the control plane serves
     * this API and restarts in seconds when it dies, and a request refused
     * never reached it, so trying again is safe. None for a person's command.
     */
    private readonly waitForPlaneMs = 0,
  ) {}

  /** The API a configuration names, with its token (an agent's own, or the operator's from the state directory). */
  static of(api: { url: string; token?: string }, { waitForPlaneMs = 0 } = {}): RegistryClient {
    return new RegistryClient(api.url, api.token, waitForPlaneMs);
  }

  /** Where the same API serves Vapora as an MCP server (Streamable HTTP), and the credentials it takes. */
  get mcp(): { url: URL; headers: Record<string, string> } {
    return { url: new URL(`${this.baseUrl.replace(/\/$/, '')}/mcp`), headers: this.credentials() };
  }

  private credentials(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  agents(): Promise<AgentView[]> {
    return this.call('GET', '/v1/agents', z.array(AgentView));
  }

  agent(agentId: string): Promise<AgentView | undefined> {
    return this.find(`/v1/agents/${encodeURIComponent(agentId)}`, AgentView);
  }

  manifests(): Promise<AgentManifest[]> {
    return this.call('GET', '/v1/manifests', z.array(AgentManifest));
  }

  /** A manifest's versions and its pool's upgrades, or undefined when the marketplace has no such manifest. */
  manifestHistory(manifestId: string): Promise<ManifestHistory | undefined> {
    return this.find(`/v1/manifests/${encodeURIComponent(manifestId)}/history`, ManifestHistory);
  }

  catalogs(): Promise<CatalogRecord[]> {
    return this.call('GET', '/v1/catalogs', z.array(CatalogRecord));
  }

  /** Reads and checks the catalog at `source` (an http(s) URL or an absolute folder) and adds its manifests. */
  addCatalog(catalog: NewCatalog): Promise<CatalogRecord> {
    return this.call('POST', '/v1/catalogs', CatalogRecord, { body: catalog });
  }

  trustCatalog(name: string, publicKey: string): Promise<CatalogRecord> {
    return this.call('PUT', `/v1/catalogs/${encodeURIComponent(name)}/trust`, CatalogRecord, {
      body: { public_key: publicKey },
    });
  }

  /** False when there was no such catalog. */
  async removeCatalog(name: string): Promise<boolean> {
    const response = await this.send('DELETE', `/v1/catalogs/${encodeURIComponent(name)}`, {});
    if (response.status === 404) return false;
    await this.read(response, 'DELETE', `/v1/catalogs/${name}`, z.object({ removed: z.string() }));
    return true;
  }

  tasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    return this.call('GET', '/v1/tasks', z.array(TaskRecord), { query: filter });
  }

  decisions(filter: DecisionFilter = {}): Promise<Decision[]> {
    return this.call('GET', '/v1/decisions', z.array(Decision), { query: filter });
  }

  artifact(id: string): Promise<Artifact | undefined> {
    return this.find(`/v1/artifacts/${encodeURIComponent(id)}`, Artifact);
  }

  artifacts(filter: ArtifactFilter = {}): Promise<ArtifactSummary[]> {
    return this.call('GET', '/v1/artifacts', z.array(ArtifactSummary), { query: filter });
  }

  /** The passages of the shared context (artifacts, knowledge) that answer `q` best, with their sources. */
  searchContext({ q, feature_id, k }: { q: string; feature_id?: string; k?: number }): Promise<ContextHit[]> {
    return this.call('GET', '/v1/context/search', z.array(ContextHit), {
      query: { q, feature_id, k: k === undefined ? undefined : String(k) },
    });
  }

  putArtifact(artifact: NewArtifact): Promise<ArtifactRef> {
    return this.call('POST', '/v1/artifacts', ArtifactRef, { body: artifact });
  }

  knowledge(filter: KnowledgeFilter = {}): Promise<Knowledge[]> {
    return this.call('GET', '/v1/knowledge', z.array(Knowledge), { query: filter });
  }

  shareKnowledge(entry: NewKnowledge): Promise<Knowledge> {
    return this.call('POST', '/v1/knowledge', Knowledge, { body: entry });
  }

  /** Artifacts, then shared context, in one request: each write is checked before any is made. */
  write(writes: NewWrites): Promise<WritesDone> {
    return this.call('POST', '/v1/writes', WritesDone, { body: writes });
  }

  /** A record by id, or undefined when the API has none. */
  private async find<S extends z.ZodType>(path: string, reply: S): Promise<z.infer<S> | undefined> {
    const response = await this.send('GET', path, {});
    return response.status === 404 ? undefined : this.read(response, 'GET', path, reply);
  }

  private async call<S extends z.ZodType>(
    method: Method,
    path: string,
    reply: S,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<z.infer<S>> {
    if (method === 'GET') return this.read(await this.send(method, path, options), method, path, reply);
    // A write (an agent storing an artifact or shared context) is a span of the trace that made it.
    return inSpan(`registry ${method} ${path}`, { kind: SpanKind.CLIENT }, async () =>
      this.read(await this.send(method, path, options), method, path, reply),
    );
  }

  private async send(method: Method, path: string, options: { query?: Query; body?: unknown }): Promise<Response> {
    const query = new URLSearchParams(
      Object.entries(options.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    ).toString();
    const request = () =>
      fetch(`${this.baseUrl}${path}${query ? `?${query}` : ''}`, {
        method,
        headers: {
          ...traceHeaders(),
          ...this.credentials(),
          ...(options.body !== undefined && { 'content-type': 'application/json' }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(10_000),
      });
    try {
      return await retry(request, whileDown(this.waitForPlaneMs, refused));
    } catch (error) {
      throw new Error(
        `the control plane does not answer at ${this.baseUrl} (VAPORA_API_PORT); is the stack up (npm start)?`,
        { cause: error },
      );
    }
  }

  private async read<S extends z.ZodType>(
    response: Response,
    method: string,
    path: string,
    reply: S,
  ): Promise<z.infer<S>> {
    if (!response.ok) {
      const text = await response.text();
      // The API says what is wrong in `error`; a reply that is not its JSON is shown as it came.
      const said = (() => {
        try {
          return (JSON.parse(text) as { error?: unknown }).error;
        } catch {
          return undefined;
        }
      })();
      throw new Error(
        `registry API ${method} ${path} answered ${response.status}: ${typeof said === 'string' ? said : text}`,
      );
    }
    return parse(reply, await response.json(), `registry API reply to ${method} ${path}`);
  }
}

/** The connection was refused: nobody listened, so the request never reached the server. */
const refused = (error: unknown): boolean =>
  error instanceof Error && (error.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED';
