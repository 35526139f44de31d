import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { DevStack, type Endpoints } from '../../stack/dev-stack';
import { installTeam } from '../../client/pool-client';
import { CATALOG_DIR, loadManifests } from '../../marketplace/manifest-loader';
import { printJson, progress } from '../output';
import { stopSignal } from '../stop-signal';
import { withClient } from '../temporal-client';
import { ensureCodecKeys, ensureOperatorToken } from '../../state-secrets';
import { consoleUrl } from './console';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'start the whole stack (Temporal dev server + Web UI, NATS JetStream, control-plane worker with embedded SurrealDB) and keep it running',
    )
    .option('--json', 'print the endpoints as one JSON line once ready')
    .option('--no-team', 'do not install the default team (one agent per role) on first start')
    .option(
      '--observability',
      "also start Prometheus ($VAPORA_PROMETHEUS_PORT, 9090) scraping the control plane, Temporal and every agent, with Vapora's alert rules, and Jaeger (UI on 16686, OTLP on 4318; built with Go on first use) receiving every process's traces",
    )
    .action(async (options: { json?: boolean; team: boolean; observability?: boolean }) => {
      const config = loadConfig();
      // Made before the control plane starts (which reads it), so this is the run that shows it.
      const operator = ensureOperatorToken(config.stateDir);
      // Payloads are encrypted from the first start on; the keys stay in the state directory with the histories they open.
      config.temporal.codecKeys ??= ensureCodecKeys(config.stateDir);
      const stack = new DevStack(config, progress, { observability: options.observability });
      // Listened for before anything starts: a signal while starting stops what has started so far.
      const stopRequested = stopSignal();
      const failed = stack.failed.then((error) => {
        progress(`error: ${error.message}`);
        return 'failure' as const;
      });
      const ready = (async () => {
        const endpoints = await stack.start();
        if (options.team) {
          const installed = await withClient(config, (client) =>
            installTeam(client, config.temporal.taskQueue, loadManifests(CATALOG_DIR), progress),
          );
          if (installed.length) progress(`default team installed: ${installed.length} agents`);
        }
        const consoleAt = { url: consoleUrl(config.api.url), operatorTokenFile: operator.file };
        if (options.json) printJson({ status: 'ready', ...endpoints, console: consoleAt, pids: stack.pids() });
        else progress(readyText(endpoints, config.api.url, operator));
      })();
      const reason = await Promise.race([
        ready.then(() => Promise.race([stopRequested, failed])),
        stopRequested,
        failed,
      ]).catch(async (error: unknown) => {
        await stack.stop();
        throw error;
      });
      progress(`stopping (${reason})…`);
      await stack.stop();
      progress('stopped.');
      // Whatever was still starting (a team install waiting on servers now gone) ends with the process.
      process.exit(reason === 'failure' ? 1 : 0);
    });
}

function readyText(endpoints: Endpoints, apiUrl: string, operator: ReturnType<typeof ensureOperatorToken>): string {
  return [
    '',
    'Vapora is up.',
    `  Temporal    ${endpoints.temporal} (namespace ${endpoints.namespace})`,
    `  Web UI      ${endpoints.webUi ?? '(external Temporal: use its own UI)'}`,
    `  NATS        ${endpoints.nats} (JetStream stream vapora_tasks)`,
    `  SurrealDB   ${endpoints.surreal}`,
    `  Worker      task queue "${endpoints.taskQueue}", registry API ${apiUrl}`,
    `  Console     ${consoleUrl(apiUrl)}`,
    ...(operator.created
      ? [
          `              operator token ${operator.token} (shown once; kept in ${operator.file}, npx vapora console prints it)`,
        ]
      : []),
    ...(endpoints.prometheus ? [`  Prometheus  ${endpoints.prometheus} (alerts: ${endpoints.prometheus}/alerts)`] : []),
    ...(endpoints.jaeger
      ? [
          `  Jaeger      ${endpoints.jaeger.ui} (traces; OTLP on ${endpoints.jaeger.otlp})`,
          `              to trace the CLI too: export OTEL_EXPORTER_OTLP_ENDPOINT=${endpoints.jaeger.otlp} VAPORA_JAEGER_UI=${endpoints.jaeger.ui}`,
        ]
      : []),
    `  State       ${endpoints.stateDir} (logs in logs/)`,
    '',
    'Agents: npx vapora agent list. Work: npx vapora feature start "<title>" --wait. Press Ctrl-C to stop.',
  ].join('\n');
}
