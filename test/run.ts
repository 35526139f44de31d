/**
 * `npm test`: provisions what is missing, starts one Temporal dev server and one
 * nats-server on free ports for the whole run, runs every test file against
 * them with node:test, and stops them. Pass test files to run only those.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { ensureNatsServer, startNatsServer } from '../src/stack/nats-server';
import { freePort } from '../src/stack/ports';
import { PROJECT_ROOT } from '../src/stack/project';
import { ensureTemporalCli } from '../src/stack/temporal-cli';
import { startTemporalDevServer } from '../src/stack/temporal-dev-server';
import { registerSearchAttributes } from '../src/temporal/register-search-attributes';

const say = (line: string) => process.stderr.write(`[test] ${line}\n`);
const config = loadConfig({ ...process.env, VAPORA_STATE_DIR: tmpdir() });
const temporalCli = await ensureTemporalCli(config.cacheDir, say);
const natsServer = await ensureNatsServer(say);

const work = mkdtempSync(join(tmpdir(), 'vapora-test-'));
const [temporalPort, natsPort] = [await freePort(), await freePort()];
say(`starting Temporal dev server on 127.0.0.1:${temporalPort} and nats-server on 127.0.0.1:${natsPort}`);
const temporal = await startTemporalDevServer({
  cli: temporalCli.path,
  host: '127.0.0.1',
  port: temporalPort,
  namespace: 'default',
  logFile: join(work, 'temporal.log'),
});
const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
await registerSearchAttributes(connection, 'default');
await connection.close();
const nats = await startNatsServer({ bin: natsServer.path, host: '127.0.0.1', port: natsPort, storeDir: join(work, 'nats'), logFile: join(work, 'nats.log') });

const files = process.argv.slice(2);
const testFiles = files.length ? files : readdirSync(join(PROJECT_ROOT, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', f));
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', ...testFiles], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      VAPORA_TEST_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      VAPORA_TEST_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      TEMPORAL_CLI_PATH: temporalCli.path,
    },
  });
  child.on('exit', (c) => resolve(c ?? 1));
});
await Promise.all([temporal.stop(), nats.stop()]);
if (code === 0) rmSync(work, { recursive: true, force: true });
else say(`server logs kept in ${work}`);
process.exit(code);
