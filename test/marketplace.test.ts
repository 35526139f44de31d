import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AGENT_ROLES, AgentManifest, ValidationError, parse } from '../src/domain';
import { dependencyProblems, installOrder } from '../src/marketplace/dependency-graph';
import { CATALOG_DIR, loadManifests } from '../src/marketplace/manifest-loader';
import {
  SHIPPED_CATALOG_KEY,
  buildCatalogIndex,
  publicKeyOf,
  rawPublicKey,
  readCatalog,
  type CatalogIndex,
} from '../src/marketplace/catalog-index';
import { stringify } from 'yaml';
import { developerManifest } from './support/fixtures';
import { tempDir } from './support/servers';

const catalog = loadManifests(CATALOG_DIR);
const byId = new Map(catalog.map((m) => [m.id, m]));
const m = (id: string, deps: [string, string, boolean?][] = [], version = '0.1.0') =>
  parse(
    AgentManifest,
    developerManifest({
      id,
      role: id as never,
      version,
      docker_image: `vapora/agents:${id}-${version}`,
      dependencies: deps.map(([agent_id, role, optional]) => ({
        agent_id,
        role: role as never,
        min_version: '0.1.0',
        optional,
      })),
    }),
    id,
  );

describe('the shipped catalog', () => {
  it('has one valid manifest per role, with its image named for role and version', () => {
    assert.deepEqual(catalog.map((c) => c.role).sort(), [...AGENT_ROLES].sort());
    for (const c of catalog) assert.equal(c.docker_image, `vapora/agents:${c.role}-${c.version}`);
    assert.deepEqual(dependencyProblems(catalog), []);
  });
  it("follows the spec's channels and optimal LLMs", () => {
    const needs = (id: string) =>
      byId
        .get(id)!
        .dependencies.filter((d) => !d.optional)
        .map((d) => d.agent_id);
    assert.deepEqual(needs('developer'), ['architect']);
    assert.deepEqual(needs('code-reviewer'), ['developer']);
    assert.deepEqual(needs('tester'), ['code-reviewer']);
    assert.deepEqual(needs('security'), ['code-reviewer']);
    assert.equal(byId.get('architect')!.llm_model, 'claude-opus-4-1');
    assert.equal(byId.get('developer')!.llm_model, 'claude-sonnet-4-5');
    assert.equal(byId.get('monitor')!.llm_provider, 'gemini');
    assert.equal(byId.get('documenter')!.llm_provider, 'openai');
  });
  it('orders installation so dependencies come first', () => {
    const order = installOrder(catalog).map((c) => c.id);
    for (const c of catalog)
      for (const d of c.dependencies)
        assert.ok(order.indexOf(d.agent_id) < order.indexOf(c.id), `${d.agent_id} before ${c.id}`);
  });
});

describe('catalog indexes: digests and Ed25519 signatures', () => {
  const shippedKey = publicKeyOf(SHIPPED_CATALOG_KEY);
  /** A copy of the shipped catalog to tamper with. */
  const copy = () => {
    const dir = tempDir('catalog-copy');
    cpSync(CATALOG_DIR, dir, { recursive: true });
    return dir;
  };
  const refused = async (dir: string, key: KeyObject | undefined, pattern: RegExp) =>
    assert.rejects(readCatalog(dir, key), (error: Error) => (assert.match(error.message, pattern), true));

  it('ships a catalog signed by the shipped key, every manifest matching its digest', async () => {
    const { index, manifests } = await readCatalog(CATALOG_DIR, shippedKey);
    assert.equal(index.name, 'vapora');
    assert.deepEqual(
      manifests.map((m) => m.id),
      catalog.map((m) => m.id),
    );
  });

  it('refuses a manifest changed after signing, naming the file and both digests', async () => {
    const dir = copy();
    appendFileSync(join(dir, 'developer.yaml'), '\n# one more line\n');
    await refused(dir, shippedKey, /developer\.yaml: sha256 [0-9a-f]{64} differs from the index's [0-9a-f]{64}/);
  });

  it('refuses an index changed after signing (a digest made to match a changed manifest)', async () => {
    const dir = copy();
    const file = join(dir, 'developer.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('max_concurrent_tasks: 3', 'max_concurrent_tasks: 30'));
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as CatalogIndex;
    index.manifests.find((e) => e.id === 'developer')!.sha256 = createHash('sha256')
      .update(readFileSync(file))
      .digest('hex');
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    await refused(dir, shippedKey, /its signature does not match the trusted key/);
    // Without a trusted key the digests are all that is checked, and they match.
    assert.equal((await readCatalog(dir)).manifests.find((m) => m.id === 'developer')!.max_concurrent_tasks, 30);
  });

  it('refuses an unsigned catalog or one signed by another key where a key is trusted', async () => {
    const dir = tempDir('catalog-own');
    writeFileSync(join(dir, 'dev.yaml'), stringify(developerManifest({ id: 'own-dev' })));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, '..', `${Date.now()}-key.pem`);
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    buildCatalogIndex(dir, 'own');
    await refused(dir, publicKey, /catalog own .* is not signed, and a key is trusted for it/);
    buildCatalogIndex(dir, 'own', keyFile);
    assert.deepEqual(
      (await readCatalog(dir, publicKeyOf(rawPublicKey(publicKey)))).manifests.map((m) => m.id),
      ['own-dev'],
    );
    await refused(dir, shippedKey, /its signature does not match the trusted key/);
    assert.throws(() => publicKeyOf('bm90IGEga2V5'), /must be an Ed25519 key/);
  });
});

describe('loading manifests', () => {
  it('reads a YAML list, a JSON file and a folder', () => {
    const dir = tempDir('manifests');
    writeFileSync(
      join(dir, 'team.yaml'),
      `- ${JSON.stringify(developerManifest({ id: 'dev-a' }))}\n- ${JSON.stringify(developerManifest({ id: 'dev-b' }))}\n`,
    );
    writeFileSync(join(dir, 'one.json'), JSON.stringify(developerManifest({ id: 'dev-c' })));
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    assert.deepEqual(
      loadManifests(join(dir, 'one.json')).map((x) => x.id),
      ['dev-c'],
    );
    assert.deepEqual(
      loadManifests(dir).map((x) => x.id),
      ['dev-c', 'dev-a', 'dev-b'],
    );
  });
  it('lists every problem of every file before refusing', () => {
    const dir = tempDir('bad-manifests');
    writeFileSync(join(dir, 'a.yaml'), 'id: ok\nversion: one\n');
    writeFileSync(join(dir, 'b.json'), '{ not json');
    assert.throws(
      () => loadManifests(dir),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.ok(e.problems.some((p) => p.startsWith('a.yaml: version: must be a semantic version')));
        assert.ok(e.problems.some((p) => p.startsWith('a.yaml: role: ')));
        assert.ok(e.problems.some((p) => p.startsWith('b.json: cannot be read')));
        return true;
      },
    );
  });
});

describe('dependency problems', () => {
  it('finds unknown agents, wrong roles, old versions and cycles; optional ones may be absent', () => {
    const architect = m('architect', [], '0.0.9');
    const problems = dependencyProblems(
      [
        m('developer', [
          ['architect', 'architect'],
          ['ghost', 'tester'],
          ['maybe', 'tester', true],
        ]),
        m('tester', [['developer', 'security']]),
        m('devops', [['monitor', 'monitor']]),
        m('monitor', [['devops', 'devops']]),
      ],
      [architect],
    );
    assert.deepEqual(problems.sort(), [
      'dependency cycle: devops -> monitor -> devops',
      'developer: depends on unknown agent "ghost"',
      'developer: needs architect >= 0.1.0, the marketplace has 0.0.9',
      'tester: dependency "developer" has role developer, not security',
    ]);
  });
});
