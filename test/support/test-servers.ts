import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { ensureNatsServer, startNatsServer } from '../../src/stack/nats-server';
import { onFreePorts } from '../../src/host/ports';
import { ensureTemporalCli } from '../../src/stack/temporal-cli';
import { startTemporalDevServer } from '../../src/stack/temporal-dev-server';

/**
 * A headless, in-memory Temporal dev server and a nats-server on free ports,
 * provisioned if missing: what `npm test` and `npm run bench` run against.
 */
export async function startTestServers(say: (line: string) => void) {
  const config = loadConfig({ ...process.env, VAPORA_STATE_DIR: tmpdir() });
  const temporalCli = await ensureTemporalCli(config.cacheDir, say);
  const natsServer = await ensureNatsServer(say);
  const work = mkdtempSync(join(tmpdir(), 'vapora-servers-'));
  const temporalLog = join(work, 'temporal.log');
  const { temporal, temporalPort, metricsPort } = await onFreePorts(
    ['temporalPort', 'metricsPort'],
    async ({ temporalPort, metricsPort }) => {
      say(`starting Temporal dev server on 127.0.0.1:${temporalPort}`);
      const temporal = await startTemporalDevServer({
        cli: temporalCli.path,
        host: '127.0.0.1',
        port: temporalPort,
        namespace: 'default',
        logFile: temporalLog,
        // Its own counters (persistence operations by kind), which the bench reads per task.
        metricsPort,
      });
      return { temporal, temporalPort, metricsPort };
    },
  );
  const { nats, natsPort } = await onFreePorts(['natsPort'], async ({ natsPort }) => {
    say(`starting nats-server on 127.0.0.1:${natsPort}`);
    const nats = await startNatsServer({
      bin: natsServer.path,
      host: '127.0.0.1',
      port: natsPort,
      storeDir: join(work, 'nats'),
      logFile: join(work, 'nats.log'),
    });
    return { nats, natsPort };
  }).catch(async (error: unknown) => {
    await temporal.stop();
    throw error;
  });
  return {
    /** What test/support/servers.ts reads back in the test processes. */
    env: {
      VAPORA_TEST_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      VAPORA_TEST_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      VAPORA_TEST_TEMPORAL_METRICS: `http://127.0.0.1:${metricsPort}/metrics`,
      TEMPORAL_CLI_PATH: temporalCli.path,
    },
    /** Stops both; their logs are kept unless `clean`. */
    async stop(clean: boolean) {
      await Promise.all([temporal.stop(), nats.stop()]);
      if (clean) rmSync(work, { recursive: true, force: true });
      else say(`server logs kept in ${work}`);
    },
  };
}
