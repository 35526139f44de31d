import { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { StackCheck, StackCheckWorkflow } from '../contracts/workflow-types';
import { temporalConnection } from '../temporal/connection';
import { dataConverter } from '../temporal/payload-codec';

/** Runs `stackCheckWorkflow` on the control-plane queue: proof that Temporal, the worker, SurrealDB and NATS all work. */
export async function runStackCheck(temporal: Config['temporal'], timeoutMs: number): Promise<StackCheck> {
  const connection = await temporalConnection(temporal);
  try {
    const client = new Client({
      connection,
      namespace: temporal.namespace,
      dataConverter: dataConverter(temporal.codecKeys),
    });
    return await client.workflow.execute<StackCheckWorkflow>('stackCheckWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: `stack-check-${Date.now()}`,
      workflowExecutionTimeout: timeoutMs,
    });
  } finally {
    await connection.close();
  }
}
