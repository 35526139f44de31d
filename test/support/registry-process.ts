/**
 * Runs one registry operation in its own process: `put <url>` stores fixtures,
 * `get <url>` prints what it finds. The embedded engine holds its file until
 * the process exits, which is exactly the restart a persistence test needs.
 */
import { RegistryStore } from '../../src/registry/registry-store';
import { developerManifest } from './fixtures';

const [op, url] = process.argv.slice(2);
const registry = await RegistryStore.open({ url: url!, namespace: 'vapora', database: 'test' });
if (op === 'put') {
  await registry.manifests.put(developerManifest());
  await registry.knowledge.share({ key: 'adr/persisted', context_type: 'decision', from_agent: 'architect-001', to_roles: [], data: { kept: true }, ttl_minutes: 60 });
} else {
  const manifest = await registry.manifests.get('developer');
  const knowledge = await registry.knowledge.get('adr/persisted');
  process.stdout.write(JSON.stringify({ manifest: manifest?.name ?? null, knowledge: knowledge?.data ?? null }));
}
await registry.close();
// The embedded engine keeps the process alive after close (see RegistryStore.close).
process.exit(0);

