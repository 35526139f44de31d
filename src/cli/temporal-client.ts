import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

/** Runs `work` with a Temporal client for the configured namespace, and closes the connection. */
export async function withClient<T>(config: Config, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 5000 }).catch(() => {
    throw new Error(
      `Temporal does not answer at ${config.temporal.address} (TEMPORAL_ADDRESS); is the stack up (npm start)?`,
    );
  });
  try {
    return await work(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}
