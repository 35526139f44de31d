import type { CatalogRecord } from '../domain';
import { publicKeyOf, rawPublicKey, readCatalog } from '../marketplace/catalog-index';
import { Marketplace } from '../marketplace/marketplace';
import type { RegistryStore } from '../registry/registry-store';

/**
 * The catalogs the marketplace takes manifests from: each read whole and
 * checked (digests, and the signature where a key is trusted) before any of
 * its manifests is added. Removing a catalog forgets it; the manifests it
 * brought stay, since pools may run them.
 */
export class Catalogs {
  private readonly marketplace: Marketplace;

  constructor(private readonly registry: RegistryStore) {
    this.marketplace = new Marketplace(registry);
  }

  list(): Promise<CatalogRecord[]> {
    return this.registry.catalogs.list();
  }

  /** Reads the catalog at `source` and adds its manifests; its trusted key (if any) must have signed it. */
  async add(name: string, source: string, public_key?: string): Promise<CatalogRecord> {
    const known = await this.registry.catalogs.get(name);
    public_key ??= known?.public_key;
    const trusted = public_key ? publicKeyOf(public_key) : undefined;
    const { manifests } = await readCatalog(source, trusted);
    for (const manifest of manifests) await this.marketplace.add(manifest);
    return this.registry.catalogs.put({
      name,
      source,
      public_key,
      signed: trusted !== undefined,
      manifests: manifests.map((m) => `${m.id}@${m.version}`),
      updated_at: new Date().toISOString(),
    });
  }

  async remove(name: string): Promise<boolean> {
    return this.registry.catalogs.remove(name);
  }

  /**
   * From now on the catalog `name` must be signed by `key` (base64 of its 32
   * raw bytes, or PEM). A catalog already added is read again with the key
   * first, and the key is refused if it did not sign it.
   */
  async trust(name: string, key: string): Promise<CatalogRecord> {
    const public_key = rawPublicKey(publicKeyOf(key));
    const known = await this.registry.catalogs.get(name);
    // An added catalog is read again with the key, and keeps its old trust if that fails.
    if (known?.source) return this.add(name, known.source, public_key);
    return this.registry.catalogs.put({
      name,
      manifests: [],
      signed: false,
      public_key,
      updated_at: new Date().toISOString(),
    });
  }
}
