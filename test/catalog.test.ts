import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { AgentManifest, CatalogRecord } from '../src/domain';
import { rawPublicKey } from '../src/marketplace/catalog-index';
import { vapora } from './support/cli';
import { eventually, fastManifest } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { tempDir, unique } from './support/servers';

describe('catalogs by URL, with digests and signatures (a local HTTP server, the control plane as a process)', () => {
  let plane: Awaited<ReturnType<typeof planeProcess>>;
  let server: Server;
  let url: string;
  const dir = tempDir('catalog-served');
  const prefix = unique('cat').replace(/-/g, '').slice(0, 12);
  const keyFile = join(dir, '..', `${prefix}-signing.pem`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const cli = (...args: string[]) => vapora(args, plane.env);
  const json = async <T>(...args: string[]): Promise<T> => {
    const { code, stdout, stderr } = await cli(...args, '--json');
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout) as T;
  };

  before(async () => {
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    for (const [id, doc] of [
      ['reviewer', 'Reviews Rust crates for unsafe code'],
      ['scribe', 'Writes release notes from merged changes'],
    ])
      writeFileSync(
        join(dir, `${id}.yaml`),
        stringify(fastManifest(`${prefix}-${id}`, { role: 'code-reviewer', documentation: doc })),
      );
    server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(dir, new URL(req.url!, 'http://x').pathname)));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    plane = await planeProcess('catalog');
    plane.start();
    await eventually(
      'the shipped catalog seeded',
      async () => (await plane.registry.catalogs().catch(() => [])).length > 0,
      120_000,
    );
  });
  after(async () => {
    server.close();
    await plane.close();
  });

  it('adds a signed catalog served over HTTP once its key is trusted, and finds its manifests by search', async () => {
    const built = await json<{ signature?: unknown }>('catalog', 'build', dir, '--name', 'partner', '--sign', keyFile);
    assert.ok(built.signature);
    const trusted = await json<CatalogRecord>('catalog', 'trust', 'partner', rawPublicKey(publicKey));
    assert.equal(trusted.source, undefined);

    const added = await json<CatalogRecord>('catalog', 'add', 'partner', url);
    assert.deepEqual(added.manifests, [`${prefix}-reviewer@0.1.0`, `${prefix}-scribe@0.1.0`]);
    assert.equal(added.signed, true);

    const found = await json<(AgentManifest & { catalogs: string[] })[]>('agent', 'search', 'rust unsafe');
    assert.deepEqual(
      found.map((m) => `${m.id} ${m.catalogs.join(',')}`),
      [`${prefix}-reviewer partner`],
    );
    const names = (await json<CatalogRecord[]>('catalog', 'list')).map((c) => c.name);
    assert.deepEqual(names, ['partner', 'vapora'], 'the shipped catalog is listed too');
  });

  it('refuses a manifest whose digest differs, and a catalog signed by another key, naming why', async () => {
    const file = join(dir, 'scribe.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('release notes', 'anything at all'));
    try {
      const tampered = await cli('catalog', 'add', 'partner', url);
      assert.equal(tampered.code, 1);
      assert.match(tampered.stderr, /answered 422: .*scribe\.yaml: sha256 [0-9a-f]{64} differs from the index's/s);
    } finally {
      writeFileSync(file, original);
    }

    const other = generateKeyPairSync('ed25519').publicKey;
    const wrongKey = await cli('catalog', 'trust', 'partner', rawPublicKey(other));
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /signature does not match the trusted key/);
    // An unsigned copy is refused where a key is trusted.
    await json('catalog', 'build', dir, '--name', 'partner');
    const unsigned = await cli('catalog', 'add', 'partner', url);
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr, /catalog partner .* is not signed, and a key is trusted for it/);
    assert.equal((await json<CatalogRecord[]>('catalog', 'list')).find((c) => c.name === 'partner')!.signed, true);

    assert.deepEqual(await json('catalog', 'remove', 'partner'), { name: 'partner', removed: true });
    const search = await json<AgentManifest[]>('agent', 'search', 'rust unsafe');
    assert.equal(search.length, 1, 'its manifests stay in the marketplace');
  });
});
