import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { parse } from '../../domain';
import { PersonName } from '../../contracts/approval';
import { ApiAuth } from '../../control-plane/api-auth';
import { operatorTokenFile, readOperatorToken } from '../../state-secrets';
import { printJson } from '../output';

export function registerToken(program: Command): void {
  const token = program.command('token').description("people's tokens: they sign approvals with them, as themselves");

  token
    .command('issue')
    .description("issue a person's token, derived from the stack's key: run it where the stack keeps its state")
    .requiredOption('--person <name>', 'who it is for: the name their approvals are recorded under')
    .option('--json', 'print the person and the token as JSON')
    .action((o: { person: string; json?: boolean }) => {
      const config = loadConfig();
      const person = parse(PersonName, o.person, '--person');
      // Only where a stack made its operator token: elsewhere a new key would issue tokens no plane accepts.
      if (!readOperatorToken(config.stateDir))
        throw new Error(
          `no stack here: ${operatorTokenFile(config.stateDir)} does not exist (run this where vapora up keeps its state, or set VAPORA_STATE_DIR)`,
        );
      const issued = ApiAuth.of(config.stateDir).personToken(person);
      if (o.json) return printJson({ person, token: issued });
      console.log(`token of ${person}  ${issued}`);
      console.log(
        `  give it to ${person} only; with VAPORA_TOKEN set to it, vapora approve|reject signs as ${person} (the token itself is never sent)`,
      );
    });
}
