import { temporalConnection, type TemporalEndpoint } from '../temporal/connection';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { startUntilReady, type SupervisedProcess } from './supervised-process';

export interface TemporalDevServerOptions {
  cli: string;
  host: string;
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** SQLite file for state that survives restarts; omit to keep it in memory. */
  dbFile?: string;
  namespace: string;
  logFile: string;
  /** Where the server serves its own Prometheus metrics; omit for none. */
  metricsPort?: number;
  /** Where the Web UI decodes encrypted payloads (the control plane's `/codec/<token>`). */
  codecEndpoint?: string;
}

/** `temporal server start-dev`, ready when the namespace answers. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<SupervisedProcess> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    options.host,
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
  ];
  args.push(...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']));
  // A workflow task that timed out is retried with a growing delay, up to 10 minutes by default: meant for a
  // task that fails every time, it also strands tasks whose worker was killed or restarting (the chaos run saw
  // a finished task wait 12 minutes for its next workflow task). The stack restarts its workers, so 30 s at most.
  args.push('--dynamic-config-value', 'history.workflowTaskRetryMaxInterval="30s"');
  // The dev server reads search attributes from its database on every use so that ones added later work at
  // once: about 17 reads per task, which are nearly half of its persistence operations. Vapora's own are
  // created with its namespace instead (a database made before keeps those it has), so they can be cached.
  args.push('--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false');
  // An activity a workflow task schedules on its own worker's queue comes back in the answer to that task and starts
  // there, where otherwise the server queues it, a poller takes it, and its start is one more write: the fleet's
  // deploys and health watches, about one write in five of an agent's start. Off by default on the server.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${key.type}`);
  // Write-ahead log, synced at checkpoints: a commit survives the server's kill -9 (the chaos run kills it),
  // though the last ones may not survive the machine losing power (the default rollback journal syncs every commit).
  if (options.dbFile)
    args.push(
      '--db-filename',
      options.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    );
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  if (options.uiPort && options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  const address = `${options.host}:${options.port}`;
  return startUntilReady(
    { name: 'temporal', command: options.cli, args, logFile: options.logFile },
    `the Temporal server at ${address}`,
    () => temporalAnswers({ address, namespace: options.namespace }),
    60_000,
  );
}

/** True when the Temporal frontend (the dev server's, plain; or the profile's) serves `namespace`. */
export async function temporalAnswers({
  namespace,
  ...endpoint
}: TemporalEndpoint & { namespace: string }): Promise<boolean> {
  const connection = await temporalConnection(endpoint, { connectTimeout: 1000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}
