import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { WORKER_TUNING } from '../../src/temporal/worker-tuning';
import { testConverter, testServers } from '../support/servers';

/**
 * The floor's other process (see floorWorkflow): a worker serving one no-op activity on the task queue it is
 * given, as an agent serves its own. It says "ready" once it polls, and stops on SIGTERM.
 */
const [taskQueue] = process.argv.slice(2);
if (!taskQueue) throw new Error('usage: activity-worker.ts <task queue>');
// Its state changes and "no workflows registered" are not the bench's news.
Runtime.install({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect({ address: testServers().temporalAddress });
const worker = await Worker.create({
  connection,
  taskQueue,
  activities: { work: async () => undefined },
  ...WORKER_TUNING,
  dataConverter: testConverter(),
});
process.once('SIGTERM', () => worker.shutdown());
const running = worker.run();
console.log('ready');
await running;
await connection.close();
