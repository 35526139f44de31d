import { readFileSync } from 'node:fs';

/**
 * True when `pid` is alive (not a zombie) and its command line passes
 * `matches`: a pid can be reused by another program. Without /proc (macOS)
 * the signal probe alone decides.
 */
export function isRunning(pid: number, matches: (argv: string[]) => boolean = () => true): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false; // gone, or another user's (EPERM): not ours either way
  }
  let argv: string[];
  let state: string | undefined;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(') ') + 2)[0];
  } catch {
    return true;
  }
  return state !== 'Z' && matches(argv);
}

/** This process's own command line, as isRunning() will later read it. */
export function ownCommandLine(): string[] {
  try {
    return readFileSync('/proc/self/cmdline', 'utf8').split('\0').filter(Boolean);
  } catch {
    return [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  }
}

/** A matcher for isRunning(): exactly this command line. */
export const commandLineIs = (expected: string[]) => (argv: string[]) =>
  argv.length === expected.length && argv.every((a, i) => a === expected[i]);
