import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { DevStack } from '../../stack/dev-stack';
import { printJson, progress } from '../output';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the whole stack (Temporal dev server + Web UI, NATS JetStream, control-plane worker with embedded SurrealDB) and keep it running')
    .option('--json', 'print the endpoints as one JSON line once ready')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const { stack, endpoints } = await DevStack.start(config, progress);
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
            `  Worker      task queue "${endpoints.taskQueue}"`,
            `  State       ${endpoints.stateDir} (logs in logs/)`,
            '',
            'Press Ctrl-C to stop.',
          ].join('\n'),
        );
      }
      const signal = await Promise.race([
        new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        }),
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
