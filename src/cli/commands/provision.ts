import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { ensureNatsServer } from '../../stack/nats-server';
import { ensureTemporalCli } from '../../stack/temporal-cli';
import { printJson, progress } from '../output';

export function registerProvision(program: Command): void {
  program
    .command('provision')
    .description('install what this machine lacks: the Temporal CLI (built with Go into the cache) and nats-server')
    .option('--json', 'print what was found or installed as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const temporal = await ensureTemporalCli(config.cacheDir, progress);
      const nats = await ensureNatsServer(progress);
      if (options.json) printJson({ temporal, nats });
      else progress(`temporal     ${temporal.path} (${temporal.version}, ${temporal.source})\nnats-server  ${nats.path} (${nats.version}, ${nats.source})`);
    });
}
