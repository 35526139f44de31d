import { compare } from 'semver';
import type { AgentManifest, AgentMetadata } from '../domain';

export interface DependencyState {
  agent_id: string;
  min_version: string;
  optional: boolean;
  /** Why it is not met, when it is not: absent, or running too old a version. */
  unmet?: string;
}

/**
 * Whether each dependency of `target` runs healthy and recent enough among
 * `agents`: what an install or upgrade checks before it starts, and what the
 * console shows before a person confirms one.
 */
export function dependencyStates(target: AgentManifest, agents: AgentMetadata[]): DependencyState[] {
  return target.dependencies.map((dep) => {
    const active = agents.filter((a) => a.manifest_id === dep.agent_id && a.status === 'Active');
    const met = active.some((a) => compare(a.version, dep.min_version) >= 0);
    const state = { agent_id: dep.agent_id, min_version: dep.min_version, optional: dep.optional };
    if (met) return state;
    return {
      ...state,
      unmet: active.length
        ? `${dep.agent_id} ${active[0]!.version} is installed but ${dep.min_version} or newer is required`
        : `${dep.agent_id} (${dep.role} >= ${dep.min_version}) is not installed and healthy`,
    };
  });
}
