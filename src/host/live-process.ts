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
  let status: string;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return true;
  }
  // A zombie is done once its last thread is: until then it still holds its files and ports.
  const zombie = /^State:\s+Z/m.test(status) && Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1) <= 1;
  return !zombie && matches(argv);
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
