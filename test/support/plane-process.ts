import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { RegistryClient } from '../../src/client/registry-client';
import { loadConfig } from '../../src/config';
import { temporalConnection } from '../../src/temporal/connection';
import { freePort } from '../../src/host/ports';
import { PROJECT_ROOT, tsNodeArgs } from '../../src/host/project';
import { tempDir, testConverter, testServers, unique } from './servers';

/**
 * The real control-plane worker (workers/control-plane.ts) as its own process,
 * on a task queue of its own with an embedded SurrealDB file, so a test can
 * kill -9 it and start it again; with a client and a registry API client.
 * Its log and its agents' logs stay under `stateDir`.
 */
export async function planeProcess(name: string, extraEnv: Record<string, string | undefined> = {}) {
  const { temporalAddress, natsUrl } = testServers();
  const stateDir = tempDir(name);
  const taskQueue = unique(name);
  const apiPort = await freePort();
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress,
    NATS_URL: natsUrl,
    VAPORA_STATE_DIR: stateDir,
    VAPORA_TASK_QUEUE: taskQueue,
    VAPORA_API_PORT: String(apiPort),
    SURREAL_URL: `surrealkv://${join(stateDir, 'registry')}`,
    // Last, so a test can send the plane elsewhere; undefined drops a variable (TEMPORAL_ADDRESS, for a profile's).
    ...extraEnv,
  };
  // The test's client reaches Temporal as the plane does.
  const connection = await temporalConnection(loadConfig(env).temporal);
  let child: ChildProcess | undefined;
  const exited = () =>
    new Promise((r) =>
      !child || child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
    );
  return {
    taskQueue,
    stateDir,
    /** What a `vapora` command needs to talk to this plane. */
    env,
    /** Its registry API (and `/metrics`, `/mcp`), as host:port. */
    apiAddress: `127.0.0.1:${apiPort}`,
    client: new Client({ connection, dataConverter: testConverter() }),
    registry: new RegistryClient(`http://127.0.0.1:${apiPort}`),
    /** The running worker process's pid. */
    get pid() {
      return child?.pid;
    },
    start() {
      const log = openSync(join(stateDir, 'control-plane.log'), 'a');
      child = spawn(process.execPath, tsNodeArgs('workers/control-plane.ts'), {
        cwd: PROJECT_ROOT,
        env,
        stdio: ['ignore', log, log],
      });
      closeSync(log);
    },
    async kill(signal: NodeJS.Signals) {
      child?.kill(signal);
      await exited();
    },
    async close() {
      child?.kill('SIGTERM');
      await exited();
      await connection.close();
    },
  };
}
