import { Runtime } from '@temporalio/worker';
import { createActivities, openActivityDeps } from '../activities';
import { serveRegistryApi } from '../src/control-plane/registry-api';
import { workspacesDir } from '../src/control-plane/feature-workspace';
import { Client } from '@temporalio/client';
import { mcpOverHttp } from '../src/client/mcp-server';
import { featureStatus } from '../src/client/feature-status';
import { RegistryClient } from '../src/client/registry-client';
import { EventBus } from '../src/bus/event-bus';
import { loadConfig } from '../src/config';
import { createDeployer } from '../src/deploy/create-deployer';
import { createLogger } from '../src/logger';
import { createEmbedder } from '../src/llm/embedding-model';
import { stopWhenOwnerGone } from '../src/stack/owner-watch';
import { seedCatalog } from '../src/marketplace/seed-catalog';
import { RegistryStore } from '../src/registry/registry-store';
import { registerSearchAttributes } from '../src/temporal/register-search-attributes';
import { createPlaneWorkers } from '../src/control-plane/plane-workers';
import { bundleWorkflows } from '../src/temporal/workflow-bundle';
import { takeInSharedContext } from '../src/control-plane/context-intake';
import { ensureDispatchers, wakeWaitingTasks } from '../src/client/task-client';
import { watchLifecyclesAgain } from '../src/client/pool-client';
import { createMetrics } from '../src/observability/metrics';
import { startTracing } from '../src/observability/tracing';
import { gaugeSources } from '../src/control-plane/gauge-sources';
import { ScrapeTargets, scrapeTargetsFile } from '../src/control-plane/scrape-targets';
import { natsMetrics } from '../src/control-plane/nats-metrics';
import { consoleApp } from '../src/control-plane/console/console-app';
import { ensureOperatorToken } from '../src/state-secrets';
import { ApiAuth } from '../src/control-plane/api-auth';
import { dataConverter } from '../src/temporal/payload-codec';
import { nativeConnection } from '../src/temporal/connection';
import { codecServer, webUiOrigins } from '../src/temporal/codec-server';
import { webUiLink } from '../src/client/web-ui-link';

/**
 * The control-plane worker: task queue `vapora`, owner of the registry (the
 * embedded SurrealDB lives in this process) and of the agent deployer.
 */
const log = createLogger('control-plane');
const config = loadConfig();
const { temporalMetricsPort } = config.observability;
// The SDK's lines (with workflow, activity and task queue ids) join Vapora's in one JSON stream; its metrics
// (workflow and activity latencies, poller and slot use) are served for Prometheus when a port is given.
Runtime.install({
  logger: log,
  ...(temporalMetricsPort && {
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${temporalMetricsPort}` } } },
  }),
});

const embedder = config.embedding && createEmbedder(config.embedding);
const registry = await RegistryStore.open(config.surreal, { embedder, log });
if (embedder)
  // Passages written before the model was configured (or while it failed) get their vectors in the background.
  void registry.passages
    .embedMissing()
    .then((embedded) => embedded && log.info('passages embedded', { model: embedder.model, embedded }))
    .catch((error: Error) => log.warn('embedding model failed', { model: embedder.model, error: error.message }));
const tracing = startTracing(config.observability.otlpEndpoint, 'vapora-control-plane');
const plugins = tracing ? [tracing.plugin] : [];
const connection = await nativeConnection(config.temporal);
const converter = dataConverter(config.temporal.codecKeys);
const temporal = new Client({ connection, namespace: config.temporal.namespace, plugins, dataConverter: converter });
const metrics = createMetrics(gaugeSources(registry, temporal, config.temporal.taskQueue));
const bus = await EventBus.connect(config.nats, { name: 'vapora-control-plane', logger: log, metrics });
const targets = new ScrapeTargets(registry, scrapeTargetsFile(config.stateDir), log);
await targets.update();
const auth = ApiAuth.of(config.stateDir);
const api = await serveRegistryApi(registry, config.api.port, log, {
  auth,
  host: config.api.host,
  metrics,
  natsMetrics: config.observability.natsMonitorUrl ? natsMetrics(config.observability.natsMonitorUrl) : undefined,
  workspaces: workspacesDir(config.stateDir),
  codec:
    converter &&
    codecServer(converter.payloadCodecs![0]!, {
      token: auth.codecToken(),
      origins: webUiOrigins(config.temporal.uiPort),
    }),
  consolePages: consoleApp({
    registry,
    temporal,
    bus,
    taskQueue: config.temporal.taskQueue,
    operatorToken: ensureOperatorToken(config.stateDir).token,
    webUi: (workflowId) => webUiLink(config, workflowId),
  }),
  mcp: mcpOverHttp({
    registryAs: (token) => new RegistryClient(config.api.url, token),
    featureStatus: (id) => featureStatus(temporal, id),
    bus,
  }),
});
const stopIntake = await takeInSharedContext(bus, registry, log, config.temporal.taskQueue);
try {
  const added = await registerSearchAttributes(connection, config.temporal.namespace);
  if (added.length) log.info('registered search attributes', { added });
  const seeded = await seedCatalog(registry);
  if (seeded.length) log.info('marketplace catalog added', { manifests: seeded });
  const deployer = createDeployer(config, log, auth);
  const deps = await openActivityDeps(
    { stateDir: config.stateDir, gitUrl: `${config.api.url}/git` },
    registry,
    bus,
    deployer,
    log,
    { temporal, metrics, targets },
  );
  const workers = await createPlaneWorkers({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await bundleWorkflows({ plugins }),
    plugins,
    dataConverter: converter,
    activities: createActivities(deps),
    workflowStackTraces: config.temporal.stackTraces,
  });
  // The dispatcher shards run before the first task arrives (each would otherwise start on its first task).
  await ensureDispatchers(temporal, config.temporal.taskQueue);
  const woken = await wakeWaitingTasks(temporal, config.temporal.taskQueue).catch(() => 0);
  if (woken) log.info('woke the tasks waiting for an agent', { tasks: woken });
  const rewatched = await watchLifecyclesAgain(temporal, config.temporal.taskQueue);
  if (rewatched) log.info('asked the running lifecycles to watch their agents again', { lifecycles: rewatched });
  log.info('worker ready', {
    taskQueue: config.temporal.taskQueue,
    temporal: config.temporal.address,
    nats: config.nats.url,
    surreal: config.surreal.url,
    api: config.api.url,
  });
  // Under `vapora up`, a worker whose stack died with SIGKILL does not go on alone.
  if (config.stackFile) stopWhenOwnerGone({ stackFile: config.stackFile }, log);
  // Returns after SIGINT/SIGTERM, once in-flight tasks are done.
  await workers.run();
  deps.close();
  await deployer.close?.();
} finally {
  stopIntake();
  api.close();
  await connection.close();
  await bus.close();
  await registry.close();
  await tracing?.shutdown();
  log.info('worker stopped');
}
// The embedded SurrealDB engine would keep the process alive (see RegistryStore.close).
process.exit(0);
