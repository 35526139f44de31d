import type { AgentManifest, Artifact, ArtifactRef, Decision, Knowledge, TaskRecord } from '../domain';
import type { AgentView } from '../control-plane/registry-api';

type Query = Record<string, string | undefined>;

/** Reads (and, for agents, writes artifacts and shared context) through the control-plane worker's API (see registry-api.ts). */
export class RegistryClient {
  constructor(private readonly baseUrl: string) {}

  agents(): Promise<AgentView[]> {
    return this.call('GET', '/v1/agents') as Promise<AgentView[]>;
  }

  agent(agentId: string): Promise<AgentView | undefined> {
    return this.call('GET', `/v1/agents/${encodeURIComponent(agentId)}`, { allowMissing: true }) as Promise<
      AgentView | undefined
    >;
  }

  manifests(): Promise<AgentManifest[]> {
    return this.call('GET', '/v1/manifests') as Promise<AgentManifest[]>;
  }

  tasks(filter: Query = {}): Promise<TaskRecord[]> {
    return this.call('GET', '/v1/tasks', { query: filter }) as Promise<TaskRecord[]>;
  }

  decisions(filter: Query = {}): Promise<Decision[]> {
    return this.call('GET', '/v1/decisions', { query: filter }) as Promise<Decision[]>;
  }

  artifact(id: string): Promise<Artifact | undefined> {
    return this.call('GET', `/v1/artifacts/${encodeURIComponent(id)}`, { allowMissing: true }) as Promise<
      Artifact | undefined
    >;
  }

  putArtifact(artifact: Omit<Artifact, 'created_at'>): Promise<ArtifactRef> {
    return this.call('POST', '/v1/artifacts', { body: artifact }) as Promise<ArtifactRef>;
  }

  knowledge(filter: Query = {}): Promise<Knowledge[]> {
    return this.call('GET', '/v1/knowledge', { query: filter }) as Promise<Knowledge[]>;
  }

  shareKnowledge(entry: Omit<Knowledge, 'created_at' | 'expires_at'> & { ttl_minutes: number }): Promise<Knowledge> {
    return this.call('POST', '/v1/knowledge', { body: entry }) as Promise<Knowledge>;
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    options: { query?: Query; body?: unknown; allowMissing?: boolean } = {},
  ): Promise<unknown> {
    const query = new URLSearchParams(
      Object.entries(options.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    ).toString();
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}${query ? `?${query}` : ''}`, {
        method,
        headers: options.body === undefined ? undefined : { 'content-type': 'application/json' },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      throw new Error(
        `the control plane does not answer at ${this.baseUrl} (VAPORA_API_PORT); is the stack up (npm start)?`,
      );
    }
    if (response.status === 404 && options.allowMissing) return undefined;
    if (!response.ok)
      throw new Error(`registry API ${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  }
}
