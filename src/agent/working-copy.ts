import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git, GitError } from '../host/git';
import { jitteredBackoff, retry } from '../host/retry';

export interface StepCommit {
  /** The step's commit on the workspace's main, or its parent when the step changed nothing. */
  commit: string;
  changed: boolean;
  files: string[];
  /** The commit's unified diff: what a reviewer of the step reads. */
  diff: string;
}

// Where the clone started, so a step asked again (after a crash) knows which commit is its own.
const START = 'refs/vapora/start';

/**
 * The workspace a remote names, as a path on this disk when the agent has the
 * workspaces' directory and the repository is there (`…/git/<feature>.git`):
 * a local clone hardlinks objects and runs no server on the control plane.
 */
export function localRemote(remote: string, workspacesDir?: string): string {
  const name = /\/git\/([A-Za-z0-9][A-Za-z0-9_.-]*\.git)$/.exec(remote)?.[1];
  const local = workspacesDir && name && join(workspacesDir, name);
  return local && existsSync(join(local, 'HEAD')) ? local : remote;
}

/**
 * An agent's clone of a feature's workspace for one attempt of one task. It
 * survives the agent's restart (same directory), so a task resumed after a
 * crash finds the files its earlier tool calls wrote.
 */
export class WorkingCopy {
  private constructor(
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * The clone for this attempt: made on first use, found again afterwards.
   * `token` goes with pushes over HTTP as a header set in Git's environment:
   * never in a command line or in the clone's config on disk.
   */
  static async open(remote: string, dir: string, token?: string): Promise<WorkingCopy> {
    const env: NodeJS.ProcessEnv = token
      ? {
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: 'http.extraHeader',
          GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}`,
        }
      : {};
    if (!existsSync(join(dir, '.git'))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dirname(dir), { recursive: true });
      await git(dirname(dir), ['clone', '--quiet', '--branch', 'main', remote, dir], env);
      await git(dir, ['update-ref', START, 'HEAD']);
    }
    return new WorkingCopy(dir, env);
  }

  /**
   * Commits what the step changed and pushes it to the workspace's main,
   * rebasing on what parallel steps pushed meanwhile. Asked again after a
   * crash, it finds the commit already made (and pushed, or pushes it).
   */
  async commitAndPush(message: string): Promise<StepCommit> {
    await git(this.dir, ['add', '--all']);
    const staged = (await git(this.dir, ['diff', '--cached', '--name-only'])).trim();
    if (staged) await git(this.dir, ['commit', '--quiet', '-m', message]);
    const ahead = (await git(this.dir, ['rev-list', '--count', 'origin/main..HEAD'])).trim() !== '0';
    if (ahead)
      await retry(() => git(this.dir, ['push', '--quiet', 'origin', 'HEAD:main'], this.env), {
        attempts: 8,
        delayMs: jitteredBackoff(50),
        // Another step pushed first: replay this one on top of it and push again.
        retryable: async (error) =>
          error instanceof GitError &&
          (await git(this.dir, ['pull', '--quiet', '--rebase', 'origin', 'main'], this.env).then(
            () => true,
            () => false,
          )),
      });
    const commit = (await git(this.dir, ['rev-parse', 'HEAD'])).trim();
    // Its own commit is on top of what it started from (rebased or not); a step asked again finds it there.
    const changed = (await git(this.dir, ['rev-list', '--count', `${START}..HEAD`])).trim() !== '0';
    if (!changed) return { commit, changed, files: [], diff: '' };
    const files = (await git(this.dir, ['show', '--format=', '--name-only', commit])).trim().split('\n');
    return { commit, changed, files, diff: await git(this.dir, ['show', '--format=', commit]) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
