import { dataConverter } from '../../src/temporal/payload-codec';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../src/host/ports';

/** The servers `npm test` (test/run.ts) started for this run. */
export function testServers(): { temporalAddress: string; natsUrl: string; temporalCli: string } {
  const temporalAddress = process.env.VAPORA_TEST_TEMPORAL_ADDRESS;
  const natsUrl = process.env.VAPORA_TEST_NATS_URL;
  const temporalCli = process.env.TEMPORAL_CLI_PATH;
  if (!temporalAddress || !natsUrl || !temporalCli) {
    throw new Error(
      'run the tests with `npm test` (or `npm test -- test/<file>.test.ts`), which starts the servers they need',
    );
  }
  return { temporalAddress, natsUrl, temporalCli };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vapora-${prefix}-`));
}

/** The environment of a `vapora up` of its own: state in `stateDir`, every server on a free port. */
export async function stackEnv(stateDir: string) {
  const ports = await freePorts(['temporal', 'ui', 'nats', 'api']);
  return {
    VAPORA_STATE_DIR: stateDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_UI_PORT: String(ports.ui),
    NATS_URL: `nats://127.0.0.1:${ports.nats}`,
    VAPORA_API_PORT: String(ports.api),
  };
}

/** A name no other test uses, for task queues, workflow ids and keys. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** The payload codec every test process shares (test/run.ts sets its key), for clients and workers made in a test. */
export const testConverter = () => dataConverter(process.env.VAPORA_CODEC_KEYS);
