import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { ProcessDeployer } from '../../src/deploy/process-deployer';
import { FleetService } from '../../src/fleet/fleet-service';
import { createLogger } from '../../src/logger';
import { tempDir, testServers } from './servers';

// Test output is test results: the worker's INFO lines are noise here.
const logger = new DefaultLogger('WARN');
Runtime.install({ logger });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)), logger });
  return bundle;
}

/**
 * A control-plane worker on its own task queue of the test server, with a
 * process deployer whose state lives in `stateDir`, and a client for it.
 */
export async function controlPlane(taskQueue: string, { registry, bus }: Omit<ActivityDeps, 'fleet'>, stateDir = tempDir('plane')) {
  const { temporalAddress, natsUrl } = testServers();
  const deployer = new ProcessDeployer({ stateDir, env: { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: 'default', NATS_URL: natsUrl }, drainMs: 10_000 });
  const fleet = new FleetService(registry, bus, deployer, createLogger('test-fleet', () => undefined));
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: await workflowBundle(), activities: createActivities({ registry, bus, fleet }) });
  const clientConnection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection: clientConnection });
  let running: Promise<void> | undefined;
  return {
    worker,
    client,
    deployer,
    stateDir,
    /** Runs the worker until `shutdown`. */
    run() {
      running = worker.run();
    },
    /** Stops every agent process this plane deployed, then the worker and the connections. */
    async shutdown() {
      await Promise.all(deployer.recorded().map((id) => deployer.stop(id)));
      worker.shutdown();
      await running;
      await clientConnection.close();
      await connection.close();
    },
    async close() {
      await clientConnection.close();
      await connection.close();
    },
  };
}
