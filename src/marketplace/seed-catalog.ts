import { compare } from 'semver';
import type { RegistryStore } from '../registry/registry-store';
import { SHIPPED_CATALOG_KEY, publicKeyOf, readCatalog } from './catalog-index';
import { dependencyProblems } from './dependency-graph';
import { CATALOG_DIR } from './manifest-loader';
import { Marketplace } from './marketplace';

/**
 * Puts the shipped catalog into the marketplace, checked against its
 * signature and digests like any other; a manifest already there at the same
 * or a newer version is kept.
 */
export async function seedCatalog(registry: RegistryStore): Promise<string[]> {
  const { manifests } = await readCatalog(CATALOG_DIR, publicKeyOf(SHIPPED_CATALOG_KEY));
  const problems = dependencyProblems(manifests);
  if (problems.length) throw new Error(`the shipped catalog is inconsistent:\n${problems.join('\n')}`);
  const marketplace = new Marketplace(registry);
  const added: string[] = [];
  for (const manifest of manifests) {
    const stored = await registry.manifests.get(manifest.id);
    if (stored && compare(stored.version, manifest.version) >= 0) continue;
    await marketplace.add(manifest);
    added.push(`${manifest.id}@${manifest.version}`);
  }
  await registry.catalogs.put({
    name: 'vapora',
    source: CATALOG_DIR,
    public_key: SHIPPED_CATALOG_KEY,
    signed: true,
    manifests: manifests.map((m) => `${m.id}@${m.version}`),
    updated_at: new Date().toISOString(),
  });
  return added;
}
