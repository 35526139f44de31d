import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { testServers } from './servers';

// Test output is test results: the worker's INFO lines are noise here.
const logger = new DefaultLogger('WARN');
Runtime.install({ logger });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)), logger });
  return bundle;
}

/** A control-plane worker on its own task queue of the test server, and a client for it. */
export async function controlPlane(taskQueue: string, deps: ActivityDeps) {
  const { temporalAddress } = testServers();
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: await workflowBundle(), activities: createActivities(deps) });
  const clientConnection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection: clientConnection });
  return {
    worker,
    client,
    async close() {
      await clientConnection.close();
      await connection.close();
    },
  };
}
