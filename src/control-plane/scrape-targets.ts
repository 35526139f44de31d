import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RegistryStore } from '../registry/registry-store';
import { WriteBatch } from '../host/write-batch';

/** Where the control plane of a state directory keeps the agents' targets, and `vapora up --observability` reads them. */
export const scrapeTargetsFile = (stateDir: string) => join(stateDir, 'observability', 'agents.json');

/**
 * Prometheus's file-based service discovery of the agents: each instance's
 * health endpoint (which serves `/metrics` too), with its agent id and role,
 * rewritten whole from the registry's endpoints whenever an instance comes or goes.
 */
export class ScrapeTargets {
  /**
   * Calls made while a write waits share it, and a write begins a second after the last at the soonest: each reads
   * every instance's endpoint and agent's role, so a scale to 1000 is a few dozen reads of them, not one after
   * another throughout.
   */
  private readonly writes = new WriteBatch<void>(() => this.write(), 1_000);

  constructor(
    private readonly registry: RegistryStore,
    readonly file: string,
  ) {}

  /** Rewrites the file; writes run one after another, so an older view never lands after a newer one. */
  update(): Promise<void> {
    return this.writes.add();
  }

  private async write(): Promise<void> {
    const groups = (await this.registry.agentEndpoints()).map((e) => ({
      targets: [`${e.ip}:${e.port}`],
      labels: { agent_id: e.agent_id, role: e.role },
    }));
    // Prometheus may read the file at any moment: it sees the old one or the new one, never half of one.
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, `${JSON.stringify(groups, null, 2)}\n`);
    renameSync(`${this.file}.tmp`, this.file);
  }
}
