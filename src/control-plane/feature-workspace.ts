import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../host/git';

// Git knows the empty tree by this id without storing it.
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** Where a feature's workspace is: one bare git repository per feature under the state directory. */
export const workspaceRepo = (stateDir: string, featureId: string) => join(stateDir, 'workspaces', `${featureId}.git`);

export interface FeatureWorkspace {
  /** The repository the agents clone and push to. */
  repo: string;
  /** Its first commit: what the feature changed is everything after it. */
  base: string;
}

/**
 * Creates the feature's workspace (or finds it: an activity may run twice):
 * a bare repository whose `main` starts at an empty commit.
 */
export async function createFeatureWorkspace(stateDir: string, featureId: string): Promise<FeatureWorkspace> {
  const repo = workspaceRepo(stateDir, featureId);
  if (!existsSync(join(repo, 'HEAD'))) {
    mkdirSync(repo, { recursive: true });
    await git(repo, ['init', '--quiet', '--bare']);
  }
  const first = (await git(repo, ['rev-list', '--max-parents=0', 'main']).catch(() => '')).trim().split('\n')[0];
  if (first) return { repo, base: first };
  const base = (await git(repo, ['commit-tree', EMPTY_TREE, '-m', `Workspace of feature ${featureId}`])).trim();
  await git(repo, ['update-ref', 'refs/heads/main', base]);
  return { repo, base };
}
