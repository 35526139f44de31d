/**
 * Runs one registry operation in its own process and prints the result as JSON:
 *   registry-process.ts <url> <database> put | get | knowledge <context_type> | search <text>
 * The embedded engine holds its file until the process exits, which is exactly
 * the restart a persistence test needs.
 */
import { RegistryStore } from '../../src/registry/registry-store';
import { developerManifest } from './fixtures';

const [url, database, op, arg] = process.argv.slice(2);
const registry = await RegistryStore.open({ url: url!, namespace: 'vapora', database: database! });
let result: unknown = null;
if (op === 'put') {
  await registry.manifests.put(developerManifest());
  await registry.knowledge.share({
    key: 'adr/persisted',
    context_type: 'decision',
    from_agent: 'architect-001',
    to_roles: [],
    data: { kept: true },
    ttl_minutes: 60,
  });
} else if (op === 'get') {
  const manifest = await registry.manifests.get('developer');
  const knowledge = await registry.knowledge.get('adr/persisted');
  result = { manifest: manifest?.name ?? null, knowledge: knowledge?.data ?? null };
} else if (op === 'search') {
  result = (await registry.passages.search({ text: arg! })).map((p) => p.source);
} else if (op === 'knowledge') {
  result = (await registry.knowledge.list({ context_type: arg })).map((k) => k.key);
}
process.stdout.write(JSON.stringify(result));
await registry.close();
// The embedded engine keeps the process alive after close (see RegistryStore.close).
process.exit(0);
