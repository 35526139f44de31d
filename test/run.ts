/**
 * `npm test`: provisions what is missing, starts one Temporal dev server and one
 * nats-server on free ports for the whole run, runs every test file against
 * them with node:test, and stops them. Pass test files to run only those.
 */
import { newCodecKey } from '../src/temporal/payload-codec';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { GoMissing, ensureKubernetesToolchain } from '../src/stack/kubernetes-toolchain';
import { PROJECT_ROOT } from '../src/host/project';
import { startTestServers } from './support/test-servers';

const say = (line: string) => process.stderr.write(`[test] ${line}\n`);
const files = process.argv.slice(2);
const testFiles = files.length
  ? files
  : readdirSync(join(PROJECT_ROOT, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join('test', f));
// The Kubernetes tests need the local control plane, built with Go on first use; without Go they skip and say why.
const kubernetesSkip = testFiles.some((f) => f.includes('kubernetes'))
  ? await ensureKubernetesToolchain(loadConfig().cacheDir, say).then(
      () => undefined,
      (error: Error) => (error instanceof GoMissing ? error.message : Promise.reject(error)),
    )
  : undefined;
if (kubernetesSkip) say(`Kubernetes tests will be skipped: ${kubernetesSkip}`);
const servers = await startTestServers(say);
const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', ...testFiles],
    {
      cwd: PROJECT_ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        ...servers.env,
        // Every test's payloads are encrypted, as a stack's are.
        VAPORA_CODEC_KEYS: process.env.VAPORA_CODEC_KEYS ?? newCodecKey('test'),
        ...(kubernetesSkip && { VAPORA_TEST_KUBERNETES_SKIP: kubernetesSkip }),
      },
    },
  );
  child.on('exit', (c) => resolve(c ?? 1));
});
await servers.stop(code === 0);
process.exit(code);
