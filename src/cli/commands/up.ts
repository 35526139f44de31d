import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { DevStack } from '../../stack/dev-stack';
import { installTeam } from '../../fleet/pool-client';
import { CATALOG_DIR, loadManifests } from '../../marketplace/manifest-loader';
import { printJson, progress } from '../output';
import { stopSignal } from '../stop-signal';
import { withClient } from '../temporal-client';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the whole stack (Temporal dev server + Web UI, NATS JetStream, control-plane worker with embedded SurrealDB) and keep it running')
    .option('--json', 'print the endpoints as one JSON line once ready')
    .option('--no-team', 'do not install the default team (one agent per role) on first start')
    .action(async (options: { json?: boolean; team: boolean }) => {
      const config = loadConfig();
      const { stack, endpoints } = await DevStack.start(config, progress);
      if (options.team) {
        try {
          const installed = await withClient(config, (client) => installTeam(client, config.temporal.taskQueue, loadManifests(CATALOG_DIR), progress));
          if (installed.length) progress(`default team installed: ${installed.length} agents`);
        } catch (error) {
          await stack.stop();
          throw error;
        }
      }
      if (options.json) printJson({ status: 'ready', ...endpoints, pids: stack.pids() });
      else {
        progress(
          [
            '',
            'Vapora is up.',
            `  Temporal    ${endpoints.temporal} (namespace ${endpoints.namespace})`,
            `  Web UI      ${endpoints.webUi ?? '(external Temporal: use its own UI)'}`,
            `  NATS        ${endpoints.nats} (JetStream stream vapora_tasks)`,
            `  SurrealDB   ${endpoints.surreal}`,
            `  Worker      task queue "${endpoints.taskQueue}", registry API ${config.api.url}`,
            `  State       ${endpoints.stateDir} (logs in logs/)`,
            '',
            'Agents: npx vapora agent list. Work: npx vapora feature start "<title>" --wait. Press Ctrl-C to stop.',
          ].join('\n'),
        );
      }
      const signal = await Promise.race([
        stopSignal(),
        stack.failed.then((error) => {
          progress(`error: ${error.message}`);
          return 'failure';
        }),
      ]);
      progress(`stopping (${signal})…`);
      await stack.stop();
      progress('stopped.');
      if (signal === 'failure') process.exitCode = 1;
    });
}
