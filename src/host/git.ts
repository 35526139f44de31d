import { execFile } from 'node:child_process';

/** A git command that failed: its arguments and what git said. */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | undefined,
  ) {
    super(`git ${args.join(' ')} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim()}`);
  }
}

/** Runs git in `cwd` as Vapora (the commits' author unless given), returning its standard output. */
export function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const identity = [
    '-c',
    'user.name=Vapora',
    '-c',
    'user.email=agents@vapora.invalid',
    '-c',
    'init.defaultBranch=main',
  ];
  return new Promise((resolve, reject) =>
    execFile(
      'git',
      [...identity, ...args],
      { cwd, env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error
          ? reject(new GitError(args, stderr || error.message, typeof error.code === 'number' ? error.code : undefined))
          : resolve(stdout),
    ),
  );
}
