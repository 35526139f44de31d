import { Command, CommanderError } from 'commander';
import { ValidationError } from '../domain';
import { registerAgent } from './commands/agent';
import { registerCatalog } from './commands/catalog';
import { registerApproval } from './commands/approval';
import { registerEvents } from './commands/events';
import { registerFeature } from './commands/feature';
import { registerKube } from './commands/kube';
import { registerTask } from './commands/task';
import { registerToken } from './commands/token';
import { registerContext } from './commands/context';
import { registerMcp } from './commands/mcp';
import { registerDoctor } from './commands/doctor';
import { registerProvision } from './commands/provision';
import { registerUp } from './commands/up';
import { registerConsole } from './commands/console';
import { registerCodecServer } from './commands/codec-server';

const program = new Command('vapora')
  .description('Vapora: durable multi-agent orchestration on Temporal, NATS JetStream and SurrealDB')
  .showHelpAfterError()
  .exitOverride();

registerUp(program);
registerConsole(program);
registerCodecServer(program);
registerDoctor(program);
registerProvision(program);
registerAgent(program);
registerCatalog(program);
registerFeature(program);
registerApproval(program);
registerToken(program);
registerTask(program);
registerContext(program);
registerMcp(program);
registerEvents(program);
registerKube(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode;
  else {
    process.stderr.write(
      `error: ${error instanceof ValidationError ? error.message : error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
