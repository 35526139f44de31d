import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { operatorTokenFile, readOperatorToken } from '../../state-secrets';
import { printJson } from '../output';

/** The console's address, and the operator's token that signs in to it. */
export const consoleUrl = (apiUrl: string) => `${apiUrl.replace(/\/$/, '')}/`;

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description("where the web console is, and the operator's token to sign in with (made by the first vapora up)")
    .option('--json', 'print the address, the token and its file as JSON')
    .action((o: { json?: boolean }) => {
      const config = loadConfig();
      const file = operatorTokenFile(config.stateDir);
      const token = readOperatorToken(config.stateDir);
      const url = consoleUrl(config.api.url);
      if (o.json) return printJson({ url, token: token ?? null, tokenFile: file });
      console.log(`console         ${url}`);
      if (!token) {
        console.log(`operator token  none yet in ${file}: npx vapora up makes one`);
        process.exitCode = 1;
        return;
      }
      console.log(`operator token  ${token}\n                (from ${file}; sign in at ${url}login)`);
    });
}
