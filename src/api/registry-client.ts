import type { AgentManifest } from '../domain';
import type { AgentView } from './registry-api';

/** Reads the registry through the control-plane worker's API (see registry-api.ts). */
export class RegistryClient {
  constructor(private readonly baseUrl: string) {}

  agents(): Promise<AgentView[]> {
    return this.get('/v1/agents') as Promise<AgentView[]>;
  }

  agent(agentId: string): Promise<AgentView | undefined> {
    return this.get(`/v1/agents/${encodeURIComponent(agentId)}`, true) as Promise<AgentView | undefined>;
  }

  manifests(): Promise<AgentManifest[]> {
    return this.get('/v1/manifests') as Promise<AgentManifest[]>;
  }

  private async get(path: string, allowMissing = false): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
    } catch {
      throw new Error(`the control plane does not answer at ${this.baseUrl} (VAPORA_API_PORT); is the stack up (npm start)?`);
    }
    if (response.status === 404 && allowMissing) return undefined;
    if (!response.ok) throw new Error(`registry API ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  }
}
