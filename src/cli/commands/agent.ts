import { WorkflowNotFoundError } from '@temporalio/client';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { RegistryClient } from '../../client/registry-client';
import type { AgentView } from '../../contracts/registry-api';
import { loadConfig } from '../../config';
import { ValidationError, parse, statusLabel, type AgentManifest } from '../../domain';
import { installPool } from '../../client/pool-client';
import { agentLifecycleWorkflowId, poolWorkflowId } from '../../contracts/workflow-ids';
import { dependencyProblems, installOrder } from '../../marketplace/dependency-graph';
import { loadManifests } from '../../marketplace/manifest-loader';
import { failureMessage } from '../../temporal/failure-message';
import { lifecycleStatusQuery } from '../../contracts/fleet';
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
  const agent = program.command('agent').description('manage the agent fleet: marketplace, install, scale, uninstall');

  agent
    .command('list')
    .description('installed agents: role, version, status, health, load, tasks, uptime, restarts')
    .option('--json', 'print the agents as JSON')
    .action(async (options: { json?: boolean }) => {
      const agents = await new RegistryClient(loadConfig().api.url).agents();
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
      const manifests = await new RegistryClient(loadConfig().api.url).manifests();
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
    .command('install <manifest>')
    .description(
      'install a marketplace manifest by id, or the manifests of a YAML/JSON file or folder, and deploy its instances',
    )
    .option('--count <n>', `instances to run (1-${MAX_REPLICAS})`, '1')
    .option('--json', 'print the resulting pools as JSON')
    .action(async (target: string, options: { count: string; json?: boolean }) => {
      const config = loadConfig();
      const count = parse(Count, options.count, '--count');
      let manifests: (AgentManifest | undefined)[] = [undefined];
      let ids = [target];
      if (existsSync(target)) {
        const loaded = loadManifests(target);
        const problems = dependencyProblems(loaded, await new RegistryClient(config.api.url).manifests());
        if (problems.length) throw new ValidationError('manifests', problems);
        manifests = installOrder(loaded);
        ids = manifests.map((m) => m!.id);
      }
      const results = await withClient(config, async (client) => {
        const done = [];
        for (const [i, manifestId] of ids.entries()) {
          if (!options.json) progress(`installing ${manifestId} (${count} instance${count > 1 ? 's' : ''})…`);
          done.push(
            await installPool(client, config.temporal.taskQueue, {
              manifestId,
              replicas: count,
              manifest: manifests[i],
            }),
          );
        }
        return done;
      });
      if (options.json) return printJson(results);
      for (const r of results) {
        console.log(`${r.manifestId}: ${r.agents.join(', ')}`);
        for (const w of r.warnings) console.log(`  warning: ${w}`);
      }
    });

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

  agent
    .command('show <agent-id>')
    .description('one agent: its registry record, instance and lifecycle')
    .option('--json', 'print the agent as JSON')
    .action(async (agentId: string, options: { json?: boolean }) => {
      const config = loadConfig();
      const view = await new RegistryClient(config.api.url).agent(agentId);
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

/** No running pool workflow (never started, or uninstalled and ended) means the manifest is not installed. */
function notInstalled(error: unknown, manifestId: string): string {
  return error instanceof WorkflowNotFoundError
    ? `${manifestId} is not installed (vapora agent install ${manifestId})`
    : failureMessage(error);
}
