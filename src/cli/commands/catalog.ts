import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RegistryClient } from '../../client/registry-client';
import { loadConfig } from '../../config';
import { buildCatalogIndex } from '../../marketplace/catalog-index';
import { printJson, table } from '../output';

/** `vapora catalog`: where the marketplace's manifests come from, and the keys they must be signed with. */
export function registerCatalog(program: Command): void {
  const catalog = program
    .command('catalog')
    .description(
      'catalogs of agent manifests (an index with sha256 digests, optionally Ed25519-signed), by URL or folder',
    );
  const registry = () => RegistryClient.of(loadConfig().api);
  // A folder is read by the control plane, wherever the command was run from.
  const sourceOf = (source: string) => (/^https?:\/\//.test(source) ? source : resolve(source));

  catalog
    .command('add <name> <url|dir>')
    .description(
      "read a catalog, check every manifest's digest (and the signature, if a key is trusted for <name>), add its manifests",
    )
    .option('--json', 'print the catalog as JSON')
    .action(async (name: string, source: string, o: { json?: boolean }) => {
      const added = await registry().addCatalog({ name, source: sourceOf(source) });
      if (o.json) return printJson(added);
      console.log(
        `${name}: ${added.manifests.length} manifests (${added.manifests.join(', ')})${added.signed ? ', signature checked' : ''}`,
      );
    });

  catalog
    .command('list')
    .description('the catalogs the marketplace takes manifests from')
    .option('--json', 'print the catalogs as JSON')
    .action(async (o: { json?: boolean }) => {
      const catalogs = await registry().catalogs();
      if (o.json) return printJson(catalogs);
      console.log(
        table(
          catalogs.map((c) => ({
            name: c.name,
            source: c.source,
            manifests: c.manifests.length,
            trust: c.public_key ? `${c.public_key.slice(0, 12)}…${c.signed ? ' (checked)' : ''}` : 'none',
            updated: c.updated_at,
          })),
          ['name', 'source', 'manifests', 'trust', 'updated'],
        ),
      );
    });

  catalog
    .command('remove <name>')
    .description('forget a catalog; the manifests it brought stay in the marketplace, since pools may run them')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const removed = await registry().removeCatalog(name);
      if (o.json) return printJson({ name, removed });
      if (!removed) throw new Error(`no catalog "${name}" (see \`vapora catalog list\`)`);
      console.log(`${name} removed`);
    });

  catalog
    .command('trust <name> <public-key>')
    .description(
      'require <name> to be signed by an Ed25519 key (base64 of its 32 raw bytes, or a PEM file); an added catalog is checked again now',
    )
    .option('--json', 'print the catalog as JSON')
    .action(async (name: string, key: string, o: { json?: boolean }) => {
      // A key file (PEM) is read here; a base64 key is taken as it is.
      const given = existsSync(key) ? readFileSync(key, 'utf8') : key;
      const trusted = await registry().trustCatalog(name, given);
      if (o.json) return printJson(trusted);
      console.log(
        `${name}: signatures by ${trusted.public_key} required${trusted.source ? `; ${trusted.manifests.length} manifests checked` : ''}`,
      );
    });

  catalog
    .command('build <dir>')
    .description('write <dir>/index.json for the manifests in <dir>, for serving as a catalog; signed with --sign')
    .requiredOption('--name <name>', "the catalog's name")
    .option('--sign <private-key.pem>', 'an Ed25519 private key (openssl genpkey -algorithm ed25519 -out key.pem)')
    .option('--json', 'print the index as JSON')
    .action(async (dir: string, o: { name: string; sign?: string; json?: boolean }) => {
      const index = buildCatalogIndex(dir, o.name, o.sign);
      if (o.json) return printJson(index);
      console.log(
        `${resolve(dir, 'index.json')}: ${index.manifests.length} manifests${index.signature ? ', signed' : ', unsigned'}`,
      );
    });
}
