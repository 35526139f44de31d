import { compare } from 'semver';
import type { AgentManifest } from '../domain';

/**
 * Problems with how `manifests` depend on each other and on `known` (manifests
 * already in the marketplace): unknown agents, wrong roles, versions below
 * `min_version`, and cycles. Optional dependencies may be absent.
 */
export function dependencyProblems(manifests: AgentManifest[], known: AgentManifest[] = []): string[] {
  const byId = new Map([...known, ...manifests].map((m) => [m.id, m]));
  const problems: string[] = [];
  for (const m of manifests) {
    for (const dep of m.dependencies) {
      const target = byId.get(dep.agent_id);
      if (!target) {
        if (!dep.optional) problems.push(`${m.id}: depends on unknown agent "${dep.agent_id}"`);
        continue;
      }
      if (target.role !== dep.role)
        problems.push(`${m.id}: dependency "${dep.agent_id}" has role ${target.role}, not ${dep.role}`);
      if (compare(target.version, dep.min_version) < 0) {
        problems.push(`${m.id}: needs ${dep.agent_id} >= ${dep.min_version}, the marketplace has ${target.version}`);
      }
    }
  }
  for (const cycle of cycles(byId)) problems.push(`dependency cycle: ${cycle.join(' -> ')}`);
  return problems;
}

/** Each dependency cycle once, as the path that closes it. */
function cycles(byId: Map<string, AgentManifest>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      found.push([...path.slice(path.indexOf(id)), id]);
      return;
    }
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.dependencies ?? []) if (byId.has(dep.agent_id)) visit(dep.agent_id, [...path, id]);
    state.set(id, 'done');
  };
  for (const id of [...byId.keys()].sort()) visit(id, []);
  return found;
}

/** Manifests ordered so every one comes after the ones it depends on (the catalog is acyclic). */
export function installOrder(manifests: AgentManifest[]): AgentManifest[] {
  const byId = new Map(manifests.map((m) => [m.id, m]));
  const ordered: AgentManifest[] = [];
  const seen = new Set<string>();
  const visit = (m: AgentManifest) => {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    for (const dep of m.dependencies) {
      const target = byId.get(dep.agent_id);
      if (target) visit(target);
    }
    ordered.push(m);
  };
  [...manifests].sort((a, b) => a.id.localeCompare(b.id)).forEach(visit);
  return ordered;
}

/**
 * What must be installed before `target`, in order: each required dependency
 * that is not installed (and optional ones with `optional`), transitively, at
 * the newest version `catalog` has. A dependency the catalog lacks, or has
 * only in a version below the one required, is a problem.
 */
export function dependencyChain(
  target: AgentManifest,
  catalog: AgentManifest[],
  installed: Set<string>,
  { optional = false } = {},
): { install: AgentManifest[]; problems: string[] } {
  const byId = new Map(catalog.map((m) => [m.id, m]));
  const needed = new Map<string, AgentManifest>();
  const problems: string[] = [];
  const visit = (m: AgentManifest) => {
    for (const dep of m.dependencies) {
      if (installed.has(dep.agent_id) || needed.has(dep.agent_id) || (dep.optional && !optional)) continue;
      const found = byId.get(dep.agent_id);
      if (!found) problems.push(`${m.id} needs ${dep.agent_id}, which no catalog has`);
      else if (compare(found.version, dep.min_version) < 0)
        problems.push(
          `${m.id} needs ${dep.agent_id} >= ${dep.min_version}; the newest in the catalog is ${found.version}`,
        );
      else {
        needed.set(found.id, found);
        visit(found);
      }
    }
  };
  visit(target);
  return { install: installOrder([...needed.values()]), problems };
}
