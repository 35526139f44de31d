import { Client, Connection } from '@temporalio/client';
import type { StackCheck, StackCheckWorkflow } from '../contracts/workflow-types';
import { dataConverter } from '../temporal/payload-codec';

/** Runs `stackCheckWorkflow` on the control-plane queue: proof that Temporal, the worker, SurrealDB and NATS all work. */
export async function runStackCheck(options: {
  address: string;
  namespace: string;
  taskQueue: string;
  timeoutMs: number;
  codecKeys?: string;
}): Promise<StackCheck> {
  const connection = await Connection.connect({ address: options.address });
  try {
    const client = new Client({
      connection,
      namespace: options.namespace,
      dataConverter: dataConverter(options.codecKeys),
    });
    return await client.workflow.execute<StackCheckWorkflow>('stackCheckWorkflow', {
      taskQueue: options.taskQueue,
      workflowId: `stack-check-${Date.now()}`,
      workflowExecutionTimeout: options.timeoutMs,
    });
  } finally {
    await connection.close();
  }
}
