import { elapsed, run } from './executables';

/** How often a Go build says it is still going: compiling prints nothing for minutes. */
const TICK_MS = 30_000;

export interface GoBuild {
  /** What is being built, for people: "Temporal CLI v1.5.1", "etcd". */
  what: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How often to say it is still going; 30 s unless a test wants it sooner. */
  tickMs?: number;
}

/**
 * Runs `go <args>` (a build or an install from the module proxy), printing a
 * line when it starts, one every 30 s with the time spent and what it is doing
 * (downloading modules, or compiling), and one when it is done.
 */
export async function goBuild(
  go: string,
  { what, args, cwd, env, tickMs = TICK_MS }: GoBuild,
  onProgress: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  let modules = 0;
  let lastDownload = 0;
  onProgress(`  building ${what}`);
  const ticking = setInterval(() => {
    const doing = Date.now() - lastDownload < tickMs ? 'downloading modules' : 'compiling';
    onProgress(`  still building ${what}: ${elapsed(started)}, ${modules} modules downloaded, ${doing}`);
  }, tickMs);
  try {
    await run(go, cwd ? ['-C', cwd, ...args] : args, {
      env: { ...process.env, ...env },
      onLine: (line) => {
        if (!line.startsWith('go: downloading')) return;
        modules++;
        lastDownload = Date.now();
      },
    });
  } catch (error) {
    throw new Error(`Building ${what} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    clearInterval(ticking);
  }
  onProgress(`  built ${what} in ${elapsed(started)}`);
}
