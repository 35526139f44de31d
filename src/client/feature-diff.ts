import { git } from '../host/git';

export interface FileChange {
  path: string;
  added: number;
  deleted: number;
}

export interface FeatureDiff {
  repo: string;
  base: string;
  commit: string;
  /** One line per step that changed something: the commits' subjects, oldest first. */
  commits: { commit: string; subject: string }[];
  files: FileChange[];
  /** The unified diff of the whole feature. */
  diff: string;
}

/** What a feature changed in its workspace: everything on `main` after the workspace's first commit. */
export async function featureDiff(workspace: { repo: string; base: string }): Promise<FeatureDiff> {
  const { repo, base } = workspace;
  const commit = (await git(repo, ['rev-parse', 'main'])).trim();
  const [numstat, log, diff] = await Promise.all([
    git(repo, ['diff', '--numstat', base, commit]),
    git(repo, ['log', '--reverse', '--format=%H %s', `${base}..${commit}`]),
    git(repo, ['diff', base, commit]),
  ]);
  const files = numstat
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [added, deleted, path] = line.split('\t');
      return { path: path!, added: Number(added) || 0, deleted: Number(deleted) || 0 };
    });
  const commits = log
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ commit: line.slice(0, 40), subject: line.slice(41) }));
  return { repo, base, commit, commits, files, diff };
}
