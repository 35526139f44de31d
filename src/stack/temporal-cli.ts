import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findGo, firstLine, isExecutable, which, type Resolved } from './executables';
import { goBuild } from './go-build';

/** The newest CLI whose go.mod has no replace directive, so `go install` works through the module proxy. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const MODULE = 'github.com/temporalio/cli';

const HOW_TO_INSTALL = `Install the Temporal CLI one of these ways, or point TEMPORAL_CLI_PATH at it:
  brew install temporal
  download it from https://temporal.download/cli (then put it on PATH)
  go install ${MODULE}/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

/** Finds the Temporal CLI: $TEMPORAL_CLI_PATH, then PATH, then the build cached under `cacheDir`. */
export function findTemporalCli(cacheDir: string, env: NodeJS.ProcessEnv = process.env): Resolved | undefined {
  const version = (path: string) => firstLine(path, ['--version']);
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH))
      throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    return { path: env.TEMPORAL_CLI_PATH, version: version(env.TEMPORAL_CLI_PATH), source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = which('temporal');
  if (onPath) return { path: onPath, version: version(onPath), source: 'PATH' };
  const cached = join(cacheDir, 'bin', 'temporal');
  if (isExecutable(cached)) return { path: cached, version: version(cached), source: 'cache' };
  return undefined;
}

/** Finds the Temporal CLI or builds it with Go into the cache; `onProgress` gets a line per step. */
export async function ensureTemporalCli(cacheDir: string, onProgress: (line: string) => void): Promise<Resolved> {
  const found = findTemporalCli(cacheDir);
  if (found) return found;
  const go = findGo();
  if (!go) throw new Error(`The Temporal CLI was not found and Go is not installed to build it.\n${HOW_TO_INSTALL}`);
  const bin = join(cacheDir, 'bin');
  mkdirSync(bin, { recursive: true });
  onProgress(
    `building Temporal CLI v${TEMPORAL_CLI_VERSION} with Go into ${bin} (first run only; about 6 minutes on 2 cores)`,
  );
  await goBuild(
    go,
    {
      what: `Temporal CLI v${TEMPORAL_CLI_VERSION}`,
      args: [
        'install',
        '-ldflags',
        `-X ${MODULE}/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
        `${MODULE}/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
      ],
      env: { GOBIN: bin, GOFLAGS: '-mod=mod' },
    },
    onProgress,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${HOW_TO_INSTALL}`);
  });
  const built = findTemporalCli(cacheDir);
  if (!built) throw new Error(`go install finished but ${join(bin, 'temporal')} is missing.\n${HOW_TO_INSTALL}`);
  return built;
}
