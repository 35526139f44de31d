import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { EventBus } from '../src/bus/event-bus';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { RegistryStore } from '../src/registry/registry-store';
import { registerSearchAttributes } from '../src/temporal/register-search-attributes';

/** The control-plane worker: task queue `vapora`, owner of the registry (the embedded SurrealDB lives in this process). */
const log = createLogger('control-plane');
const config = loadConfig();

const registry = await RegistryStore.open(config.surreal);
const bus = await EventBus.connect(config.nats.url, { name: 'vapora-control-plane', logger: log });
const connection = await NativeConnection.connect({ address: config.temporal.address });
try {
  const added = await registerSearchAttributes(connection, config.temporal.namespace);
  if (added.length) log.info('registered search attributes', { added });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createActivities({ registry, bus }),
  });
  log.info('worker ready', { taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, nats: config.nats.url, surreal: config.surreal.url });
  // Worker.run() returns after SIGINT/SIGTERM, once in-flight tasks are done.
  await worker.run();
} finally {
  await connection.close();
  await bus.close();
  await registry.close();
  log.info('worker stopped');
}
// The embedded SurrealDB engine would keep the process alive (see RegistryStore.close).
process.exit(0);
