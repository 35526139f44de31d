import { Client } from '@temporalio/client';
import type { Config } from '../config';
import { startTracing } from '../observability/tracing';
import { dataConverter } from '../temporal/payload-codec';
import { temporalConnection } from '../temporal/connection';

/**
 * Runs `work` with a Temporal client for the configured namespace, and closes
 * the connection. With tracing on, what the client starts or signals is the
 * root of its trace, flushed before the command returns.
 */
export async function withClient<T>(config: Config, work: (client: Client) => Promise<T>): Promise<T> {
  const tracing = startTracing(config.observability.otlpEndpoint, 'vapora-cli');
  const connection = await temporalConnection(config.temporal, { connectTimeout: 5000 }).catch((error: Error) => {
    throw new Error(`${error.message}\nIs the stack up (npm start), and are TEMPORAL_ADDRESS or the profile right?`);
  });
  try {
    return await work(
      new Client({
        connection,
        namespace: config.temporal.namespace,
        plugins: tracing ? [tracing.plugin] : [],
        dataConverter: dataConverter(config.temporal.codecKeys),
      }),
    );
  } finally {
    await connection.close();
    await tracing?.shutdown();
  }
}
