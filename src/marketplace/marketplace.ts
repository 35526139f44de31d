import { compare, rcompare } from 'semver';
import type { AgentManifest } from '../domain';
import { manifestKey, type RegistryStore } from '../registry/registry-store';

/**
 * The manifests agents are installed from: every version ever added, and the
 * newest of each, which an install without a version takes. A pool keeps the
 * version it runs until it is upgraded.
 */
export class Marketplace {
  constructor(private readonly registry: RegistryStore) {}

  /** Keeps `manifest` among its versions; it becomes the newest when it is at least as new as the one there. */
  async add(manifest: AgentManifest): Promise<void> {
    await this.registry.manifestVersions.put(manifest);
    const newest = await this.registry.manifests.get(manifest.id);
    if (!newest || compare(manifest.version, newest.version) >= 0) await this.registry.manifests.put(manifest);
  }

  /** `id` at `version`, or its newest version. */
  async get(id: string, version?: string): Promise<AgentManifest | undefined> {
    const newest = await this.registry.manifests.get(id);
    if (!version || newest?.version === version) return newest;
    return this.registry.manifestVersions.get(manifestKey(id, version));
  }

  /** Every version of `id` the marketplace has, newest first. */
  async versions(id: string): Promise<string[]> {
    const kept = (await this.registry.manifestVersions.list({ manifest_id: id })).map((m) => m.version);
    // Manifests added before versions were kept are known by their newest alone.
    const newest = (await this.registry.manifests.get(id))?.version;
    return [...new Set([...kept, ...(newest ? [newest] : [])])].sort(rcompare);
  }
}
