import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../logger';
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
  private readonly writes = new WriteBatch<void>(() => this.write().catch((error: Error) => this.failed(error)), 1_000);
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly registry: RegistryStore,
    readonly file: string,
    private readonly log: Logger,
    /** How long after a failed rewrite the next one begins. */
    private readonly retryMs = 5_000,
  ) {}

  /**
   * Rewrites the file; writes run one after another, so an older view never lands after a newer one. It never fails:
   * a deploy that awaited a rewrite that failed was retried without end, and agents work whether Prometheus scrapes
   * them or not. A failed rewrite is logged, and the file rewritten again until one succeeds.
   */
  update(): Promise<void> {
    return this.writes.add();
  }

  private failed(error: Error): void {
    this.log.warn("Prometheus's targets file was not rewritten; trying again", {
      file: this.file,
      error: error.message,
      inMs: this.retryMs,
    });
    this.retry ??= setTimeout(() => {
      this.retry = undefined;
      void this.update();
    }, this.retryMs).unref();
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
