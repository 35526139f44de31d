import { compare } from 'semver';
import type { RegistryStore } from '../registry/registry-store';
import { dependencyProblems } from './dependency-graph';
import { CATALOG_DIR, loadManifests } from './manifest-loader';
import { Marketplace } from './marketplace';

/** Puts the shipped catalog into the marketplace; a manifest already there at the same or a newer version is kept. */
export async function seedCatalog(registry: RegistryStore): Promise<string[]> {
  const catalog = loadManifests(CATALOG_DIR);
  const problems = dependencyProblems(catalog);
  if (problems.length) throw new Error(`the shipped catalog is inconsistent:\n${problems.join('\n')}`);
  const marketplace = new Marketplace(registry);
  const added: string[] = [];
  for (const manifest of catalog) {
    const stored = await registry.manifests.get(manifest.id);
    if (stored && compare(stored.version, manifest.version) >= 0) continue;
    await marketplace.add(manifest);
    added.push(`${manifest.id}@${manifest.version}`);
  }
  return added;
}
