import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../host/git';

// Git knows the empty tree by this id without storing it.
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** Where feature workspaces are: one bare git repository per feature under the state directory. */
export const workspacesDir = (stateDir: string) => join(stateDir, 'workspaces');
const workspaceRepo = (stateDir: string, featureId: string) => join(workspacesDir(stateDir), `${featureId}.git`);

export interface FeatureWorkspace {
  /** The repository the agents clone and push to. */
  repo: string;
  /** Its first commit: what the feature changed is everything after it. */
  base: string;
  /** The same repository as a Git remote over HTTP (served with the registry API), for agents in pods. */
  url?: string;
}

/**
 * Creates the feature's workspace (or finds it: an activity may run twice):
 * a bare repository whose `main` starts at an empty commit.
 */
export async function createFeatureWorkspace(
  stateDir: string,
  featureId: string,
  gitUrl?: string,
): Promise<FeatureWorkspace> {
  const repo = workspaceRepo(stateDir, featureId);
  if (!existsSync(join(repo, 'HEAD'))) {
    mkdirSync(repo, { recursive: true });
    await git(repo, ['init', '--quiet', '--bare']);
  }
  const first = (await git(repo, ['rev-list', '--max-parents=0', 'main']).catch(() => '')).trim().split('\n')[0];
  const url = gitUrl && `${gitUrl}/${featureId}.git`;
  if (first) return { repo, base: first, url };
  const base = (await git(repo, ['commit-tree', EMPTY_TREE, '-m', `Workspace of feature ${featureId}`])).trim();
  await git(repo, ['update-ref', 'refs/heads/main', base]);
  return { repo, base, url };
}
