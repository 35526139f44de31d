import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isRunning } from '../../src/host/live-process';
import { PROJECT_ROOT } from '../../src/host/project';

const VAPORA = 'src/cli/vapora.mjs';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vapora <args>` to completion. */
export function vapora(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VAPORA, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts a long-running `vapora <args>` and resolves with the first JSON line it prints on stdout;
 * `detached` gives it a process group of its own, as a terminal or a service manager would.
 */
export function vaporaUntilJson<T>(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  { detached = false } = {},
): Promise<{ child: ChildProcessWithoutNullStreams; first: T; stderr: () => string }> {
  const child = spawn(process.execPath, [VAPORA, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    detached,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`vapora ${args.join(' ')} printed no JSON within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => reject(new Error(`vapora ${args.join(' ')} exited with ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, first: JSON.parse(line) as T, stderr: () => stderr });
    });
  });
}

export function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Alive and not a zombie (a container's init may be slow to reap what it inherits). */
export const isAlive = (pid: number) => isRunning(pid);
