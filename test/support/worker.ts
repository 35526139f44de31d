import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Server } from 'node:http';
import { createActivities, openActivityDeps } from '../../activities';
import { serveRegistryApi } from '../../src/control-plane/registry-api';
import { workspacesDir } from '../../src/control-plane/feature-workspace';
import { ScrapeTargets, scrapeTargetsFile } from '../../src/control-plane/scrape-targets';
import type { EventBus } from '../../src/bus/event-bus';
import type { Deployer } from '../../src/deploy/deployer';
import { ApiAuth } from '../../src/control-plane/api-auth';
import { ProcessDeployer } from '../../src/deploy/process-deployer';
import { createLogger } from '../../src/logger';
import type { RegistryStore } from '../../src/registry/registry-store';
import { freePort } from '../../src/host/ports';
import { createPlaneWorkers } from '../../src/control-plane/plane-workers';
import { bundleWorkflows } from '../../src/temporal/workflow-bundle';
import { nativeConnection, temporalConnection } from '../../src/temporal/connection';
import { tempDir, testConverter, testServers } from './servers';

// Test output is test results: the worker's INFO lines are noise here.
const logger = new DefaultLogger('WARN');
Runtime.install({ logger });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflows({ logger });
  return bundle;
}

/** A test file's own workflows (`test/workflows/<file>`), bundled, with a worker connection and a client to the test server. */
export async function testWorkflows(file: string) {
  const { temporalAddress } = testServers();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL(`../workflows/${file}`, import.meta.url)),
    logger,
  });
  const connection = await nativeConnection({ address: temporalAddress });
  const clientConnection = await temporalConnection({ address: temporalAddress });
  const client = new Client({ connection: clientConnection, dataConverter: testConverter() });
  const close = async () => void (await Promise.all([connection.close(), clientConnection.close()]));
  return { workflowBundle, connection, client, close };
}

/** The registry API of the plane serving `registry`, on a free port: agents read and write through it, each with its token. */
const apis = new WeakMap<RegistryStore, Promise<{ server: Server; port: number; auth: ApiAuth }>>();
function registryApi(registry: RegistryStore, stateDir: string) {
  let api = apis.get(registry);
  if (!api) {
    const auth = ApiAuth.of(stateDir);
    api = freePort().then(async (port) => ({
      port,
      auth,
      server: await serveRegistryApi(registry, port, createLogger('test-api', { write: () => undefined }), {
        auth,
        workspaces: workspacesDir(stateDir),
      }),
    }));
    apis.set(registry, api);
  }
  return api;
}

/**
 * A control-plane worker on its own task queue of the test server, with the
 * given deployer or a process deployer whose state lives in `stateDir`, the registry API its
 * agents use, and a client for it.
 */
export async function controlPlane(
  taskQueue: string,
  { registry, bus, deployer: given }: { registry: RegistryStore; bus: EventBus; deployer?: Deployer },
  stateDir = tempDir('plane'),
) {
  const { temporalAddress, natsUrl } = testServers();
  const { port, auth } = await registryApi(registry, stateDir);
  const env = {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    NATS_URL: natsUrl,
    VAPORA_API_PORT: String(port),
  };
  const deployer: Deployer =
    given ?? new ProcessDeployer({ stateDir, env, drainMs: 10_000, tokenFor: (id) => auth.agentToken(id) });
  const clientConnection = await temporalConnection({ address: temporalAddress });
  const client = new Client({ connection: clientConnection, dataConverter: testConverter() });
  const connection = await nativeConnection({ address: temporalAddress });
  const log = createLogger('test-plane', { write: () => undefined });
  const deps = await openActivityDeps(
    { stateDir, gitUrl: `http://127.0.0.1:${port}/git` },
    registry,
    bus,
    deployer,
    log,
    // On the workers' connection, as in workers/control-plane.ts: the tasks it starts begin here at once.
    {
      temporal: new Client({ connection, dataConverter: testConverter() }),
      targets: new ScrapeTargets(registry, scrapeTargetsFile(stateDir), log),
    },
  );
  const workers = await createPlaneWorkers({
    connection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(deps),
    dataConverter: testConverter(),
  });
  let running: Promise<void> | undefined;
  return {
    client,
    deployer,
    stateDir,
    /** Where its registry API serves the feature workspaces as Git remotes. */
    gitUrl: `http://127.0.0.1:${port}/git`,
    /** Runs the workers until `shutdown`. */
    run() {
      running = workers.run();
    },
    /** Stops every agent process this plane deployed, then the workers and the connections. */
    async shutdown() {
      if (deployer instanceof ProcessDeployer) await Promise.all(deployer.recorded().map((id) => deployer.stop(id)));
      workers.shutdown();
      await running;
      deps.close();
      await clientConnection.close();
      await connection.close();
    },
    async close() {
      deps.close();
      await clientConnection.close();
      await connection.close();
    },
  };
}
