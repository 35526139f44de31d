import type { Command } from 'commander';
import { EventBus } from '../../bus/event-bus';
import { loadConfig } from '../../config';
import { eventLine, eventOf } from '../../client/event-line';
import { printJson } from '../output';

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('the task events kept in JetStream (assigned, started, progress, completed, failed, decisions)')
    .option('--follow', 'keep printing new events until Ctrl-C')
    .option('--feature <id>', 'only the events of one feature (or task id)')
    .option('--type <type>', 'only one event type, e.g. TaskCompleted')
    .option('--json', 'print each event as a JSON line')
    .action(async (o: { follow?: boolean; feature?: string; type?: string; json?: boolean }) => {
      const config = loadConfig();
      const bus = await EventBus.connect(config.nats, { name: 'vapora-cli', manageStreams: false }).catch(() => {
        throw new Error(`NATS does not answer at ${config.nats.url} (NATS_URL); is the stack up (npm start)?`);
      });
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      const scope = o.feature?.replace(/^(feature|task)-/, '');
      try {
        for await (const event of bus.events({ follow: o.follow, signal: stop.signal })) {
          if ((scope && !eventOf(event.message, scope)) || (o.type && event.message.type !== o.type)) continue;
          if (o.json) printJson(event);
          else console.log(eventLine(event));
        }
      } finally {
        await bus.close();
      }
    });
}
