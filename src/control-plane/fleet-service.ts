import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { EventBus } from '../bus/event-bus';
import { compare, major } from 'semver';
import {
  describeIssues,
  statusLabel,
  type AgentInstance,
  type AgentManifest,
  type AgentMetadata,
  type AgentRole,
  type AgentStatus,
  type PoolUpgrade,
} from '../domain';
import type { Deployer } from '../deploy/deployer';
import type { Deployment } from '../contracts/fleet';
import type { Logger } from '../logger';
import { dependencyProblems } from '../marketplace/dependency-graph';
import { dependencyStates } from '../marketplace/dependency-check';
import { Marketplace } from '../marketplace/marketplace';
import type { RegistryStore } from '../registry/registry-store';
import { waitFor } from '../host/retry';
import { WriteBatch } from '../host/write-batch';
import { followHeartbeats } from './health-watch';
import type { Metrics } from '../observability/metrics';
import type { ScrapeTargets } from './scrape-targets';
import type { DeployedAgent, HealthStats, UpgradePlan, WatchOutcome } from '../contracts/fleet';
import { UpgradeRequest } from '../contracts/upgrade-request';

/** A health check that sets only the check's own fields. */
interface RecordedCheck {
  agentId: string;
  agent: Pick<AgentMetadata, 'last_health_check' | 'current_tasks' | 'uptime_percentage'>;
  lastHeartbeat?: string;
}

/** What a long-running activity can do: report progress (resumed on retry) and learn it was cancelled. */
export interface ActivityControl {
  heartbeat(details: HealthStats): void;
  signal: AbortSignal;
}

/** How often a deploy checks a new instance that was not healthy at once. */
const FIRST_HEALTHY_POLL_MS = 200;

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/** The fleet's side effects: marketplace checks, deployment, registry bookkeeping, status events. */
export class FleetService {
  private readonly marketplace: Marketplace;
  /** Checks that cannot move an agent's status, written for the whole fleet at once (see recordCheck). */
  private readonly checks = new WriteBatch<RecordedCheck>(async (checks) => {
    await this.registry.agents.setFields(checks.map(({ agentId, agent }) => ({ key: agentId, fields: agent })));
    await this.registry.instances.setFields(
      checks.flatMap(({ agentId, lastHeartbeat }) =>
        lastHeartbeat ? [{ key: agentId, fields: { last_heartbeat: lastHeartbeat } }] : [],
      ),
    );
  });

  /** Agents whose deploy in this process wrote them Active: their watch's first check need not read them again. */
  private readonly deployedActive = new Set<string>();

  constructor(
    private readonly registry: RegistryStore,
    private readonly bus: EventBus,
    private readonly deployer: Deployer,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Prometheus's file of agent targets, rewritten as instances come and go. */
    private readonly targets?: ScrapeTargets,
  ) {
    this.marketplace = new Marketplace(registry);
  }

  /**
   * Adds `manifest` to the marketplace when given, then checks that every
   * required dependency is installed, Active and recent enough. Optional
   * dependencies that are missing come back as warnings. The pool runs the
   * version returned.
   */
  async installManifest(
    manifestId: string,
    manifest?: AgentManifest,
  ): Promise<{ role: AgentRole; version: string; warnings: string[] }> {
    if (manifest) await this.addManifest(manifest);
    const target = manifest ?? (await this.marketplace.get(manifestId));
    if (!target)
      throw refuse(
        'UnknownManifest',
        `no manifest "${manifestId}" in the marketplace (see \`vapora agent available\`)`,
      );
    const warnings = await this.dependencyWarnings(target, `install ${manifestId}`);
    return { role: target.role, version: target.version, warnings };
  }

  /**
   * Checks an upgrade of the pool of `manifestId` from `from` before anything
   * starts: the new version (given, added with its manifest, or the one before
   * the last upgrade for a rollback) must exist with the same role, its
   * required dependencies must be running, and installed dependents must not
   * need an older major (or a newer version) unless `force`.
   */
  async prepareUpgrade(manifestId: string, pinned: string | undefined, raw: unknown): Promise<UpgradePlan> {
    const parsed = UpgradeRequest.safeParse(raw, { reportInput: true });
    if (!parsed.success)
      throw refuse('InvalidInput', `invalid upgrade of ${manifestId}: ${describeIssues(parsed.error).join('; ')}`);
    const request = parsed.data;
    // Pools installed before versions were pinned run what their agents say.
    const from =
      pinned ??
      (await this.registry.agents.list({ manifest_id: manifestId }))[0]?.version ??
      (await this.manifest(manifestId)).version;
    if (request.manifest) await this.addManifest(request.manifest);
    const to = request.manifest?.version ?? request.to ?? (await this.rollbackTarget(manifestId, request.previous));
    if (to === from) throw refuse('NothingToDo', `${manifestId} already runs ${from}`);
    const target = await this.marketplace.get(manifestId, to);
    if (!target)
      throw refuse(
        'UnknownVersion',
        `the marketplace has no ${manifestId} ${to}; it has ${(await this.marketplace.versions(manifestId)).join(', ') || 'none'}`,
      );
    const current = await this.marketplace.get(manifestId, from);
    if (current && current.role !== target.role)
      throw refuse('InvalidManifest', `${manifestId} ${to} has role ${target.role}, the running pool ${current.role}`);
    const warnings = await this.dependencyWarnings(target, `upgrade ${manifestId} to ${to}`);
    const installed = new Set((await this.registry.agents.list()).map((a) => a.manifest_id));
    const blocking = (await this.registry.manifests.list()).flatMap((m) =>
      m.dependencies
        .filter((d) => d.agent_id === manifestId && !d.optional && installed.has(m.id))
        .filter((d) => major(d.min_version) < major(to) || compare(to, d.min_version) < 0)
        .map((d) => `${m.id} needs ${manifestId} >= ${d.min_version}`),
    );
    if (blocking.length && !request.force)
      throw refuse(
        'DependentsRefuse',
        `cannot move ${manifestId} from ${from} to ${to}: ${blocking.join('; ')}; pass --force to upgrade anyway`,
      );
    const { interval_secs, consecutive_failures_threshold } = target.health_check;
    return {
      from,
      to,
      // Its first healthy check within the threshold, after a deploy that may take a while (a pod pulling its image).
      healthGateMs: (interval_secs * consecutive_failures_threshold + 120) * 1000,
      maxUnavailable: request.maxUnavailable,
      warnings: [...warnings, ...(blocking.length ? [`forced past: ${blocking.join('; ')}`] : [])],
    };
  }

  /** The version a rollback returns to: the one the last completed upgrade left. */
  private async rollbackTarget(manifestId: string, previous: boolean | undefined): Promise<string> {
    if (previous) {
      const last = (await this.registry.upgrades.list({ manifest_id: manifestId, outcome: 'completed' })).at(-1);
      if (!last) throw refuse('NothingToDo', `${manifestId} has no completed upgrade to roll back`);
      return last.from_version;
    }
    const newest = await this.marketplace.get(manifestId);
    if (!newest) throw refuse('UnknownManifest', `no manifest "${manifestId}" in the marketplace`);
    return newest.version;
  }

  /** Keeps a record of each upgrade, for `vapora agent history`. */
  async recordUpgrade(upgrade: PoolUpgrade): Promise<void> {
    await this.registry.upgrades.put(upgrade);
  }

  /** The registry's status of an agent (Active once a health check passed), if it is still there. */
  async agentStatus(agentId: string): Promise<string | undefined> {
    const agent = await this.registry.agents.get(agentId);
    return agent && statusLabel(agent.status);
  }

  private async addManifest(manifest: AgentManifest): Promise<void> {
    const problems = dependencyProblems(
      [manifest],
      (await this.registry.manifests.list()).filter((m) => m.id !== manifest.id),
    );
    if (problems.length)
      throw refuse(
        'InvalidManifest',
        `manifest ${manifest.id} refused:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    await this.marketplace.add(manifest);
  }

  /** Refuses a required dependency that is not running recent enough; warns about an optional one. */
  private async dependencyWarnings(target: AgentManifest, doing: string): Promise<string[]> {
    const warnings: string[] = [];
    for (const dep of dependencyStates(target, await this.registry.agents.list())) {
      if (!dep.unmet) continue;
      if (!dep.optional)
        throw refuse(
          'DependencyMissing',
          `cannot ${doing}: ${dep.unmet}; install it first (vapora agent install ${dep.agent_id}${doing.startsWith('install') ? `, or both: vapora agent install ${target.id} --with-deps` : ''})`,
        );
      warnings.push(`optional dependency missing: ${dep.unmet}`);
    }
    for (const w of warnings) this.log.warn(w, { manifest: target.id });
    return warnings;
  }

  /** Installed manifests that need `manifestId` (non-optionally) and still have agents. */
  async dependentsOf(manifestId: string): Promise<string[]> {
    const installed = new Set((await this.registry.agents.list()).map((a) => a.manifest_id));
    const manifests = await this.registry.manifests.list();
    return manifests
      .filter((m) => installed.has(m.id) && m.dependencies.some((d) => d.agent_id === manifestId && !d.optional))
      .map((m) => m.id);
  }

  /**
   * Deploys the instance and records it. A deployer that waits for its pod to be Ready has it pass its first check
   * at once: then its record is written Active, where it was written Scaling and then read again and rewritten.
   */
  async deployAgent(agentId: string, manifestId: string, version?: string): Promise<DeployedAgent> {
    const manifest = await this.manifest(manifestId, version);
    const deployment = await this.deployer.deploy({ agentId, manifest });
    const deployed = { deployment, health: manifest.health_check, healthPath: manifest.health_check_endpoint };
    const healthy = await this.passesCheck(deployed, Date.now());
    const now = new Date().toISOString();
    const [[existing], [instance]] = await this.registry.readTogether(
      this.registry.agents.readMany([agentId]),
      this.registry.instances.readMany([agentId]),
    );
    // Agents of one manifest have the same dependents (see syncDependents): a new one takes another's, and only the
    // first of a manifest finds them, and changes which manifests are installed (and so everyone's dependents).
    const sibling = existing ? undefined : await this.registry.agents.anyOf({ manifest_id: manifest.id });
    const firstOfManifest = !existing && !sibling;
    const from = existing?.status ?? 'Scaling';
    await this.registry.agents.put({
      id: agentId,
      manifest_id: manifest.id,
      role: manifest.role,
      name: manifest.name,
      version: manifest.version,
      status: healthy ? 'Active' : from,
      capabilities: manifest.capabilities,
      skills: manifest.skills,
      llm_provider: manifest.llm_provider,
      llm_model: manifest.llm_model,
      dependencies: manifest.dependencies.map((d) => d.agent_id),
      dependents: existing?.dependents ?? sibling?.dependents ?? (await this.installedDependents(manifest.id)),
      health_check: manifest.health_check,
      max_concurrent_tasks: manifest.max_concurrent_tasks,
      current_tasks: 0,
      queue_depth: 0,
      created_at: existing?.created_at ?? now,
      last_health_check: healthy ? now : (existing?.last_health_check ?? now),
      uptime_percentage: existing?.uptime_percentage ?? 100,
    });
    await this.putInstance(agentId, deployment, instance);
    if (firstOfManifest) await this.syncDependents();
    if (healthy) {
      this.deployedActive.add(agentId);
      await this.announce(agentId, from, 'Active', 'deployed and healthy');
    } else await this.awaitFirstHealthy(agentId, deployed);
    return deployed;
  }

  private async passesCheck({ deployment, health, healthPath }: DeployedAgent, since: number): Promise<boolean> {
    return (await this.deployer.check(deployment, { path: healthPath, config: health, lastHeartbeatAt: since })).ok;
  }

  /**
   * Gives a new instance `threshold` intervals to pass a check, so dependents can install once it returns. The
   * deploy's own check has just failed: the first here comes a poll later.
   */
  private async awaitFirstHealthy(agentId: string, deployed: DeployedAgent): Promise<void> {
    const since = Date.now();
    const { consecutive_failures_threshold, interval_secs } = deployed.health;
    await sleep(FIRST_HEALTHY_POLL_MS);
    const healthy = await waitFor(`${agentId} to pass a health check`, () => this.passesCheck(deployed, since), {
      timeoutMs: consecutive_failures_threshold * interval_secs * 1000,
      intervalMs: FIRST_HEALTHY_POLL_MS,
    }).then(
      () => true,
      () => false, // not yet healthy: the health watch takes it from here
    );
    if (healthy) await this.setStatus(agentId, 'Active', 'deployed and healthy');
  }

  /** Checks health every interval until `threshold` consecutive checks fail, keeping the registry current. */
  async watchHealth(
    agentId: string,
    agent: DeployedAgent,
    stats: HealthStats,
    control: ActivityControl,
  ): Promise<WatchOutcome> {
    const { health, deployment, healthPath } = agent;
    const heartbeats = followHeartbeats(this.bus, agentId, Date.now());
    let failures = 0;
    let lastError = '';
    let sawHealthy = false;
    let recordedBeat: number | undefined;
    let wroteActive = this.deployedActive.delete(agentId);
    try {
      for (;;) {
        const timer = this.metrics.healthCheckSeconds.startTimer();
        const result = await this.deployer.check(deployment, {
          path: healthPath,
          config: health,
          lastHeartbeatAt: heartbeats.last(),
        });
        timer({ ok: String(result.ok) });
        stats = { checks: stats.checks + 1, ok: stats.ok + (result.ok ? 1 : 0) };
        failures = result.ok ? 0 : failures + 1;
        sawHealthy ||= result.ok;
        if (result.error) lastError = result.error;
        const beat = heartbeats.last();
        await this.recordCheck(
          agentId,
          result.ok,
          result.runningTasks,
          stats,
          beat === recordedBeat ? undefined : beat,
          wroteActive,
        );
        recordedBeat = beat;
        wroteActive ||= result.ok;
        control.heartbeat(stats);
        if (failures >= health.consecutive_failures_threshold) return { failures, lastError, sawHealthy, stats };
        // A cancelled activity fails with its own CancelledFailure, not the timer's AbortError.
        await sleep(health.interval_secs * 1000, undefined, { signal: control.signal }).catch(() =>
          Promise.reject(control.signal.reason as Error),
        );
      }
    } finally {
      heartbeats.stop();
    }
  }

  async restartAgent(agentId: string, manifestId: string, reason: string, version?: string): Promise<Deployment> {
    const manifest = await this.manifest(manifestId, version);
    this.deployedActive.delete(agentId);
    await this.setStatus(agentId, 'Updating', `restarting: ${reason}`);
    const deployment = await this.deployer.restart({ agentId, manifest });
    await this.putInstance(agentId, deployment, await this.registry.instances.get(agentId), { restarted: true });
    this.metrics.agentRestarts.inc({ role: manifest.role });
    this.log.info('agent restarted', { agentId, reason, podId: deployment.podId });
    return deployment;
  }

  async markError(agentId: string, reason: string): Promise<void> {
    await this.setStatus(agentId, { Error: reason }, reason);
  }

  /** Drains and stops the instance (Updating while a newer version replaces it), then removes it from the registry. */
  async stopAgent(
    agentId: string,
    manifestId: string,
    reason: string,
    status: 'Inactive' | 'Updating' = 'Inactive',
    version?: string,
  ): Promise<void> {
    this.deployedActive.delete(agentId);
    await this.setStatus(agentId, status, reason).catch(() => undefined);
    // Lifecycles of earlier releases do not say their version; the registry knows it once the instance deployed.
    await this.deployer.stop(agentId, manifestId, version ?? (await this.registry.agents.get(agentId))?.version);
    await this.registry.instances.remove(agentId);
    await this.registry.agents.remove(agentId);
    await this.targets?.update();
    if (!(await this.registry.agents.some({ manifest_id: manifestId }))) await this.syncDependents();
  }

  /** Installed manifests that depend on `manifestId`: the `dependents` of each of its agents. */
  private async installedDependents(manifestId: string): Promise<string[]> {
    const dependents = (await this.registry.manifests.list()).filter((m) =>
      m.dependencies.some((d) => d.agent_id === manifestId),
    );
    const installed = await Promise.all(dependents.map((m) => this.registry.agents.some({ manifest_id: m.id })));
    return dependents.filter((_, i) => installed[i]).map((m) => m.id);
  }

  /**
   * Writes a check to the agent's record, and the heartbeat to its instance's when one came since the last check.
   * Until the watch has seen the agent healthy (or its deploy here wrote it Active), a check may make it Active: then
   * it is read, changed and announced. After that nothing else moves its status while the watch runs (failed checks
   * leave it as it is), so the check only sets its own fields, in one write with every other agent's checks of the
   * moment: a fleet of 1000 checked every 10 s is then not 100 reads and 100 writes a second.
   */
  private async recordCheck(
    agentId: string,
    ok: boolean,
    runningTasks: number,
    stats: HealthStats,
    newBeat: number | undefined,
    wroteActive: boolean,
  ): Promise<void> {
    const agent = {
      last_health_check: new Date().toISOString(),
      current_tasks: runningTasks,
      uptime_percentage: Math.round((stats.ok / stats.checks) * 1000) / 10,
    };
    const lastHeartbeat = newBeat === undefined ? undefined : new Date(newBeat).toISOString();
    if (wroteActive) return this.checks.add({ agentId, agent, lastHeartbeat });
    await this.updateAgent(
      agentId,
      (current) => ({ ...current, ...(ok && { status: 'Active' as const }), ...agent }),
      'health check passed',
    );
    // Set alone: a task's end adds to the instance's counters meanwhile (see RegistryStore.recordTaskEnd).
    if (lastHeartbeat)
      await this.registry.instances.setFields([{ key: agentId, fields: { last_heartbeat: lastHeartbeat } }]);
  }

  private setStatus(agentId: string, to: AgentStatus, reason: string): Promise<void> {
    return this.updateAgent(agentId, (agent) => ({ ...agent, status: to }), reason);
  }

  /** Changes the agent's record, and announces its status when the change moved it. */
  private async updateAgent(
    agentId: string,
    change: (agent: AgentMetadata) => AgentMetadata,
    reason: string,
  ): Promise<void> {
    let from: AgentStatus | undefined;
    let to: AgentStatus | undefined;
    await this.registry.agents.update(agentId, (agent) => {
      from = agent.status;
      const changed = change(agent);
      to = changed.status;
      return changed;
    });
    if (from !== undefined && to !== undefined) await this.announce(agentId, from, to, reason);
  }

  /** Publishes and logs an agent's move from one status to another; nothing when it stayed. */
  private async announce(agentId: string, from: AgentStatus, to: AgentStatus, reason: string): Promise<void> {
    if (JSON.stringify(from) === JSON.stringify(to)) return;
    await this.bus.publish({
      type: 'AgentStatusChanged',
      agent_id: agentId,
      from,
      to,
      reason,
      timestamp: new Date().toISOString(),
    });
    this.log.info('agent status', { agentId, from: statusLabel(from), to: statusLabel(to), reason });
  }

  /**
   * The instance's record for its new deployment, the counters of its `previous` record kept; a restart counts as
   * one more restart and error.
   */
  private async putInstance(
    agentId: string,
    d: Deployment,
    previous: AgentInstance | undefined,
    { restarted = false } = {},
  ): Promise<void> {
    const more = restarted ? 1 : 0;
    await this.registry.instances.put({
      agent_id: agentId,
      pod_id: d.podId,
      ip: d.ip,
      port: d.port,
      start_time: d.startedAt,
      last_heartbeat: d.startedAt,
      tasks_completed: previous?.tasks_completed ?? 0,
      tasks_failed: previous?.tasks_failed ?? 0,
      avg_task_duration_ms: previous?.avg_task_duration_ms ?? 0,
      error_count: (previous?.error_count ?? 0) + more,
      restart_count: (previous?.restart_count ?? 0) + more,
      tokens_used: previous?.tokens_used ?? 0,
      cost_incurred: previous?.cost_incurred ?? 0,
    });
    await this.targets?.update();
  }

  /** Keeps each agent's `dependents` equal to the installed manifests that depend on its manifest. */
  private async syncDependents(): Promise<void> {
    const agents = await this.registry.agents.list();
    const installed = new Set(agents.map((a) => a.manifest_id));
    const manifests = (await this.registry.manifests.list()).filter((m) => installed.has(m.id));
    for (const agent of agents) {
      const dependents = manifests
        .filter((m) => m.dependencies.some((d) => d.agent_id === agent.manifest_id))
        .map((m) => m.id);
      if (JSON.stringify(dependents) !== JSON.stringify(agent.dependents))
        await this.registry.agents.update(agent.id, (a) => ({ ...a, dependents }));
    }
  }

  private async manifest(manifestId: string, version?: string): Promise<AgentManifest> {
    const manifest = await this.marketplace.get(manifestId, version);
    if (!manifest)
      throw refuse('UnknownManifest', `no manifest "${manifestId}"${version ? ` ${version}` : ''} in the marketplace`);
    return manifest;
  }
}
