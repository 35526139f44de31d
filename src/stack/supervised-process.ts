import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { waitFor } from '../host/retry';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * A child process whose output goes to a log file, stopped with SIGTERM and, after a grace period, SIGKILL.
 * The file is its own stdout and stderr rather than a pipe through this process: a server that outlives a
 * killed `vapora up` would die of SIGPIPE on its next log line, and its output costs this process nothing.
 */
export class SupervisedProcess {
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(readonly spec: ProcessSpec) {
    const log = openSync(spec.logFile, 'a');
    try {
      this.child = spawn(spec.command, spec.args, {
        env: spec.env ?? process.env,
        cwd: spec.cwd,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('error', () => resolve(null));
      this.child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts `spec` and resolves once `ready` answers true; stops it and rejects if it exits or times out first. */
export async function startUntilReady(
  spec: ProcessSpec,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<SupervisedProcess> {
  const process = new SupervisedProcess(spec);
  try {
    await waitFor(what, ready, {
      timeoutMs,
      intervalMs: 200,
      failIf: () =>
        process.running ? undefined : `it exited; see ${spec.logFile}, which ends:\n${logTail(spec.logFile)}`,
    });
  } catch (error) {
    await process.stop();
    throw error;
  }
  return process;
}

/** The last lines of a log, for an error that says why a server stopped where the log is not at hand (CI). */
function logTail(file: string, lines = 12): string {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const buffer = Buffer.alloc(Math.min(size, 8192));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((line) => `  ${line}`)
      .join('\n');
  } finally {
    closeSync(fd);
  }
}
