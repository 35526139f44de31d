import { WorkflowNotFoundError } from '@temporalio/client';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { RegistryClient } from '../../client/registry-client';
import type { AgentView } from '../../contracts/registry-api';
import { loadConfig } from '../../config';
import { SemVer, ValidationError, parse, statusLabel, type AgentManifest } from '../../domain';
import { installPool, installedPools, upgradePool } from '../../client/pool-client';
import type { UpgradeRequest } from '../../contracts/upgrade-request';
import { agentLifecycleWorkflowId, poolWorkflowId } from '../../contracts/workflow-ids';
import { dependencyChain, dependencyProblems, installOrder } from '../../marketplace/dependency-graph';
import { loadManifests } from '../../marketplace/manifest-loader';
import { failureMessage } from '../../temporal/failure-message';
import { lifecycleStatusQuery } from '../../contracts/fleet';
import { AGENT_CARD_PATH, AgentCard } from '../../contracts/agent-card';
import { MAX_REPLICAS, scalePoolUpdate, uninstallPoolUpdate } from '../../contracts/fleet';
import { printJson, progress, table } from '../output';
import { withClient } from '../temporal-client';

const wholeNumber = (min: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().min(min).max(MAX_REPLICAS));
const Replicas = wholeNumber(0);
const Count = wholeNumber(1);

function ago(iso: string | undefined): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function row(a: AgentView) {
  return {
    id: a.id,
    role: a.role,
    version: a.version,
    status: statusLabel(a.status),
    health: `${a.uptime_percentage}% (checked ${ago(a.last_health_check)} ago)`,
    load: `${Math.round((a.current_tasks / a.max_concurrent_tasks) * 100)}%`,
    tasks: `${a.current_tasks}/${a.max_concurrent_tasks}`,
    uptime: ago(a.instance?.start_time),
    restarts: a.instance?.restart_count ?? 0,
    pod: a.instance?.pod_id,
  };
}

export function registerAgent(program: Command): void {
  const agent = program
    .command('agent')
    .description('manage the agent fleet: marketplace, install, scale, upgrade, uninstall');

  agent
    .command('list')
    .description('installed agents: role, version, status, health, load, tasks, uptime, restarts')
    .option('--json', 'print the agents as JSON')
    .action(async (options: { json?: boolean }) => {
      const agents = await RegistryClient.of(loadConfig().api).agents();
      if (options.json) return printJson(agents);
      console.log(
        agents.length
          ? table(agents.map(row), [
              'id',
              'role',
              'version',
              'status',
              'health',
              'load',
              'tasks',
              'uptime',
              'restarts',
              'pod',
            ])
          : 'no agents installed (vapora agent install <manifest>)',
      );
      for (const a of agents) if (typeof a.status !== 'string') console.log(`\n${a.id}: ${a.status.Error}`);
    });

  agent
    .command('available')
    .description('the marketplace: every manifest that can be installed')
    .option('--json', 'print the manifests as JSON')
    .action(async (options: { json?: boolean }) => {
      const manifests = await RegistryClient.of(loadConfig().api).manifests();
      if (options.json) return printJson(manifests);
      console.log(
        table(
          manifests.map((m) => ({
            id: m.id,
            version: m.version,
            role: m.role,
            llm: `${m.llm_provider}/${m.llm_model}`,
            capabilities: m.capabilities.map((c) => c.id).join(','),
            needs:
              m.dependencies.map((d) => `${d.agent_id}>=${d.min_version}${d.optional ? '?' : ''}`).join(',') || '-',
          })),
          ['id', 'version', 'role', 'llm', 'capabilities', 'needs'],
        ),
      );
    });

  agent
    .command('search <text>')
    .description('manifests across catalogs whose id, name, role, capabilities, skills or description mention <text>')
    .option('--json', 'print the manifests as JSON')
    .action(async (text: string, options: { json?: boolean }) => {
      const registry = RegistryClient.of(loadConfig().api);
      const [manifests, catalogs] = await Promise.all([registry.manifests(), registry.catalogs()]);
      const words = text.toLowerCase().split(/\s+/).filter(Boolean);
      const found = manifests
        .filter((m) => {
          const about = [
            m.id,
            m.name,
            m.role,
            m.documentation,
            ...m.skills,
            ...m.capabilities.flatMap((c) => [c.id, c.name, c.description]),
          ]
            .join(' ')
            .toLowerCase();
          return words.every((w) => about.includes(w));
        })
        .map((m) => ({
          ...m,
          catalogs: catalogs.filter((c) => c.manifests.some((k) => k.startsWith(`${m.id}@`))).map((c) => c.name),
        }));
      if (options.json) return printJson(found);
      if (!found.length) return console.log(`no manifest mentions "${text}"`);
      console.log(
        table(
          found.map((m) => ({
            id: m.id,
            version: m.version,
            role: m.role,
            catalog: m.catalogs.join(',') || '-',
            about: m.documentation.slice(0, 60),
          })),
          ['id', 'version', 'role', 'catalog', 'about'],
        ),
      );
    });

  agent
    .command('install <manifest>')
    .description(
      'install a marketplace manifest by id, or the manifests of a YAML/JSON file or folder, and deploy its instances',
    )
    .option('--count <n>', `instances to run (1-${MAX_REPLICAS})`, '1')
    .option('--with-deps', 'install missing required dependencies first (one instance each, newest matching version)')
    .option('--with-optional', 'with --with-deps: optional dependencies too')
    .option('--json', 'print the resulting pools as JSON')
    .action(
      async (
        target: string,
        options: { count: string; withDeps?: boolean; withOptional?: boolean; json?: boolean },
      ) => {
        const config = loadConfig();
        const count = parse(Count, options.count, '--count');
        const catalog = await RegistryClient.of(config.api).manifests();
        let steps: InstallStep[] = [{ manifestId: target, replicas: count }];
        if (existsSync(target)) {
          const loaded = loadManifests(target);
          const problems = dependencyProblems(loaded, catalog);
          if (problems.length) throw new ValidationError('manifests', problems);
          steps = installOrder(loaded).map((m) => ({ manifestId: m.id, replicas: count, manifest: m }));
        }
        const results = await withClient(config, async (client) => {
          if (options.withDeps)
            steps = await withDependencies(steps, catalog, new Set(await installedPools(client)), options.withOptional);
          const done = [];
          for (const step of steps) {
            if (!options.json)
              progress(
                `installing ${step.manifestId} (${step.replicas} instance${step.replicas > 1 ? 's' : ''}${step.dependencyOf ? `, needed by ${step.dependencyOf}` : ''})…`,
              );
            done.push(await installPool(client, config.temporal.taskQueue, step));
          }
          return done;
        });
        if (options.json) return printJson(results);
        for (const r of results) {
          console.log(`${r.manifestId}: ${r.agents.join(', ')}`);
          for (const w of r.warnings) console.log(`  warning: ${w}`);
        }
      },
    );

  agent
    .command('scale <manifest-id> <n>')
    .description(`run N instances of an installed manifest (0-${MAX_REPLICAS}); scaling down drains the newest`)
    .option('--json', 'print the pool as JSON')
    .action(async (manifestId: string, n: string, options: { json?: boolean }) => {
      const config = loadConfig();
      const replicas = parse(Replicas, n, 'N');
      if (!options.json) progress(`scaling ${manifestId} to ${replicas}…`);
      const status = await withClient(config, (client) =>
        client.workflow
          .getHandle(poolWorkflowId(manifestId))
          .executeUpdate(scalePoolUpdate, { args: [replicas] })
          .catch((e: unknown) => {
            throw new Error(notInstalled(e, manifestId));
          }),
      );
      if (options.json) return printJson(status);
      console.log(
        `${manifestId}: ${status.agents.length} running${status.agents.length ? ` (${status.agents.join(', ')})` : ''}`,
      );
    });

  agent
    .command('uninstall <manifest-id>')
    .description('stop every instance and remove the agent; refused while installed agents depend on it')
    .option('--force', 'uninstall even if other agents depend on it')
    .option('--json', 'print the outcome as JSON')
    .action(async (manifestId: string, options: { force?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const result = await withClient(config, async (client) => {
        const handle = client.workflow.getHandle(poolWorkflowId(manifestId));
        const outcome = await handle
          .executeUpdate(uninstallPoolUpdate, { args: [{ force: options.force ?? false }] })
          .catch((e: unknown) => {
            throw new Error(notInstalled(e, manifestId));
          });
        if (outcome.uninstalled) await handle.result();
        return outcome;
      });
      if (options.json) printJson(result);
      else if (result.uninstalled)
        console.log(
          `${manifestId} uninstalled${result.dependents.length ? ` (forced; ${result.dependents.join(', ')} depended on it)` : ''}`,
        );
      else
        console.error(
          `refused: ${result.dependents.join(', ')} depend on ${manifestId}; uninstall them first or pass --force`,
        );
      if (!result.uninstalled) process.exitCode = 1;
    });

  const upgradeOptions = (command: Command) =>
    command
      .option(
        '--max-unavailable <n>',
        'old instances stopped before their replacements are healthy (0: a new one is healthy before an old one drains)',
        '0',
      )
      .option('--force', 'upgrade even if installed agents need another major version')
      .option('--json', 'print the outcome as JSON');
  const runUpgrade = async (
    manifestId: string,
    request: UpgradeRequest,
    options: { maxUnavailable: string; force?: boolean; json?: boolean },
  ) => {
    const config = loadConfig();
    const maxUnavailable = parse(Replicas, options.maxUnavailable, '--max-unavailable');
    const say = options.json ? () => undefined : progress;
    const result = await withClient(config, (client) =>
      upgradePool(client, manifestId, { ...request, maxUnavailable, force: options.force ?? false }, say).catch(
        (e: unknown) => Promise.reject(new Error(notInstalled((e as Error).cause ?? e, manifestId))),
      ),
    );
    if (options.json) return printJson(result);
    console.log(
      `${manifestId}: ${result.from} → ${result.to}, ${result.replaced} instances replaced; now ${result.pool.agents.join(', ')} on ${result.to}`,
    );
    for (const w of result.warnings) console.log(`  warning: ${w}`);
  };

  upgradeOptions(
    agent
      .command('upgrade <manifest-id>')
      .description(
        'roll an installed pool to another version, one instance at a time: a new one healthy, then an old one drained; rolls back if a new one never becomes healthy',
      )
      .option('--to <version>', 'a version the marketplace has (default: its newest)')
      .option('--file <manifest.yaml>', 'a manifest of the new version, added to the marketplace first'),
  ).action(
    async (
      manifestId: string,
      options: { to?: string; file?: string; maxUnavailable: string; force?: boolean; json?: boolean },
    ) => {
      if (options.to && options.file) throw new Error('give --to or --file, not both');
      const to = options.to === undefined ? undefined : parse(SemVer, options.to, '--to');
      const manifest = options.file ? loadManifests(options.file) : undefined;
      if (manifest && (manifest.length !== 1 || manifest[0]!.id !== manifestId))
        throw new Error(
          `--file: must hold one manifest of ${manifestId} (found ${manifest.map((m) => m.id).join(', ') || 'none'})`,
        );
      await runUpgrade(manifestId, { to, manifest: manifest?.[0] }, options);
    },
  );

  upgradeOptions(
    agent
      .command('rollback <manifest-id>')
      .description('roll an installed pool back to the version it ran before its last upgrade'),
  ).action(async (manifestId: string, options: { maxUnavailable: string; force?: boolean; json?: boolean }) =>
    runUpgrade(manifestId, { previous: true }, options),
  );

  agent
    .command('history <manifest-id>')
    .description("the versions the marketplace has of a manifest, and its pool's upgrades and rollbacks")
    .option('--json', 'print the history as JSON')
    .action(async (manifestId: string, options: { json?: boolean }) => {
      const config = loadConfig();
      const registry = RegistryClient.of(config.api);
      const history = await registry.manifestHistory(manifestId);
      if (!history) throw new Error(`no manifest "${manifestId}" in the marketplace (see \`vapora agent available\`)`);
      if (options.json) return printJson(history);
      const running = new Set(
        (await registry.agents()).filter((a) => a.manifest_id === manifestId).map((a) => a.version),
      );
      console.log(
        `${manifestId} versions: ${history.versions.map((v) => (running.has(v) ? `${v} (running)` : v)).join(', ')}`,
      );
      if (!history.upgrades.length) return console.log('no upgrades yet');
      console.log(
        table(
          history.upgrades.map((u) => ({
            started: u.started_at,
            from: u.from_version,
            to: u.to_version,
            outcome: u.outcome,
            replaced: u.replaced,
            took: u.finished_at
              ? `${((Date.parse(u.finished_at) - Date.parse(u.started_at)) / 1000).toFixed(1)}s`
              : '-',
            reason: u.reason,
          })),
          ['started', 'from', 'to', 'outcome', 'replaced', 'took', 'reason'],
        ),
      );
    });

  agent
    .command('card <agent-id>')
    .description("the agent's A2A agent card, as it serves it at /.well-known/agent-card.json on its health port")
    .option('--json', 'print the card as JSON')
    .action(async (agentId: string, options: { json?: boolean }) => {
      const config = loadConfig();
      const view = await RegistryClient.of(config.api).agent(agentId);
      if (!view?.instance) throw new Error(`no running agent "${agentId}" (see \`vapora agent list\`)`);
      const url = `http://${view.instance.ip}:${view.instance.port}${AGENT_CARD_PATH}`;
      const response = await fetch(url).catch((e: Error) => Promise.reject(new Error(`${url}: ${e.message}`)));
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      const card = parse(AgentCard, await response.json(), `agent card of ${agentId}`);
      if (options.json) return printJson(card);
      console.log(
        [
          `${card.name} ${card.version}: ${card.description}`,
          `  card        ${url}`,
          ...card.supportedInterfaces.map((i) => `  interface   ${i.url} (${i.protocolBinding})`),
          ...card.skills.map((s) => `  skill       ${s.id}: ${s.name} [${s.tags.join(', ')}]`),
        ].join('\n'),
      );
    });

  agent
    .command('show <agent-id>')
    .description('one agent: its registry record, instance and lifecycle')
    .option('--json', 'print the agent as JSON')
    .action(async (agentId: string, options: { json?: boolean }) => {
      const config = loadConfig();
      const view = await RegistryClient.of(config.api).agent(agentId);
      if (!view) throw new Error(`no agent "${agentId}" (see \`vapora agent list\`)`);
      const lifecycle = await withClient(config, (client) =>
        client.workflow.getHandle(agentLifecycleWorkflowId(agentId)).query(lifecycleStatusQuery),
      ).catch(() => undefined);
      if (options.json) return printJson({ ...view, lifecycle });
      const r = row(view);
      console.log(
        [
          `${view.id}  ${view.name} (${view.role} ${view.version}, manifest ${view.manifest_id})`,
          `  status      ${r.status}${typeof view.status === 'string' ? '' : `: ${view.status.Error}`}`,
          `  lifecycle   ${lifecycle ? `${lifecycle.phase}, ${lifecycle.restarts} restarts${lifecycle.lastError ? `, last error: ${lifecycle.lastError}` : ''}` : '-'}`,
          `  health      ${r.health}, every ${view.health_check.interval_secs}s, restart after ${view.health_check.consecutive_failures_threshold} failures: ${view.health_check.auto_restart_enabled ? 'on' : 'off'}`,
          `  instance    ${view.instance ? `${view.instance.pod_id} at ${view.instance.ip}:${view.instance.port}, up ${r.uptime}, ${view.instance.restart_count} restarts, ${view.instance.error_count} errors` : '-'}`,
          `  work        ${r.tasks} tasks, ${view.instance?.tasks_completed ?? 0} completed, ${view.instance?.tokens_used ?? 0} tokens, $${(view.instance?.cost_incurred ?? 0).toFixed(4)}`,
          `  llm         ${view.llm_provider}/${view.llm_model}`,
          `  needs       ${view.dependencies.join(', ') || '-'}; needed by ${view.dependents.join(', ') || '-'}`,
          `  capability  ${view.capabilities.map((c) => `${c.id} (${c.complexity})`).join(', ')}`,
        ].join('\n'),
      );
    });
}

interface InstallStep {
  manifestId: string;
  replicas: number;
  manifest?: AgentManifest;
  /** The manifest this one is installed for (`--with-deps`). */
  dependencyOf?: string;
}

/** `steps`, each preceded by the dependencies it is missing (one instance each), in dependency order. */
async function withDependencies(
  steps: InstallStep[],
  catalog: AgentManifest[],
  installed: Set<string>,
  optional = false,
): Promise<InstallStep[]> {
  const planned = new Set([...installed, ...steps.map((s) => s.manifestId)]);
  const all = [
    ...catalog.filter((m) => !steps.some((s) => s.manifest?.id === m.id)),
    ...steps.flatMap((s) => s.manifest ?? []),
  ];
  const out: InstallStep[] = [];
  for (const step of steps) {
    const target = step.manifest ?? all.find((m) => m.id === step.manifestId);
    if (!target)
      throw new Error(`no manifest "${step.manifestId}" in the marketplace (see \`vapora agent available\`)`);
    const { install, problems } = dependencyChain(target, all, planned, { optional });
    if (problems.length) throw new ValidationError('dependencies', problems);
    for (const m of install) {
      planned.add(m.id);
      out.push({ manifestId: m.id, replicas: 1, dependencyOf: target.id });
    }
    out.push(step);
  }
  return out;
}

/** No running pool workflow (never started, or uninstalled and ended) means the manifest is not installed. */
function notInstalled(error: unknown, manifestId: string): string {
  return error instanceof WorkflowNotFoundError
    ? `${manifestId} is not installed (vapora agent install ${manifestId})`
    : failureMessage(error);
}
