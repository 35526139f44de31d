import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { AgentManifest, ValidationError, type AgentManifestInput, type AgentMetadata } from '../src/domain';
import { SemVer } from '../src/domain/semver';
import { buildCatalogIndex, publicKeyOf, rawPublicKey, readCatalog } from '../src/marketplace/catalog-index';
import { dependencyStates } from '../src/marketplace/dependency-check';
import { dependencyProblems, installOrder } from '../src/marketplace/dependency-graph';
import { loadManifests } from '../src/marketplace/manifest-loader';
import {
  deeplyNested,
  fuzz,
  hostileString,
  identifier,
  isSemVer,
  nonEmptyText,
  pollutingObject,
  prototypePolluted,
  role,
  semver,
  text,
  wrongType,
} from './support/arbitraries';
import { agentMetadata, developerManifest } from './support/fixtures';
import { tempDir } from './support/servers';

/** Property-based tests of the manifests the marketplace reads: files, folders, catalogs, dependencies, versions. */

const root = tempDir('fuzz-manifests');
let folders = 0;
/** A fresh folder for one run. */
const folder = () => {
  const dir = join(root, String(folders++));
  mkdirSync(dir);
  return dir;
};

const int = (min: number, max: number) => fc.integer({ min, max });
const quantity = fc
  .tuple(
    fc.nat(4096),
    fc.option(fc.nat(99), { nil: undefined }),
    fc.constantFrom('', 'm', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi'),
  )
  .map(([whole, fraction, unit]) => `${whole}${fraction === undefined ? '' : `.${fraction}`}${unit}`);
const imagePath = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)?(?:\/[a-z0-9]+(?:-[a-z0-9]+)?){0,2}$/);
const image = fc
  .tuple(
    fc.constantFrom('', 'ghcr.io/', 'localhost:5000/', 'registry.example.com:443/'),
    imagePath,
    fc.option(fc.stringMatching(/^[\w][\w.-]{0,20}$/), { nil: undefined }),
    fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
  )
  .map(([host, path, tag, digest]) => `${host}${path}${tag ? `:${tag}` : ''}${digest ? `@sha256:${digest}` : ''}`);
const serverName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => n !== 'vapora');
const tools = fc.record(
  {
    mcp_servers: fc.uniqueArray(
      fc.oneof(
        fc.constant({ name: 'vapora' }),
        fc.record(
          { name: serverName, command: nonEmptyText(40), args: fc.array(text(20), { maxLength: 3 }) },
          { requiredKeys: ['name', 'command'] },
        ),
        fc.record({ name: serverName, url: fc.webUrl({ validSchemes: ['http', 'https'] }) }),
      ),
      { minLength: 1, maxLength: 3, selector: (s) => s.name },
    ),
    allow: fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/), { minLength: 1, maxLength: 4 }),
    max_steps: int(1, 100),
  },
  { requiredKeys: ['mcp_servers', 'allow'] },
);

/** A valid manifest as a person writes it: optional fields left out at random, no dependencies (see graphs below). */
const manifestWith = (id: fc.Arbitrary<string>) =>
  fc
    .record(
      {
        id,
        name: nonEmptyText(200),
        version: semver,
        role,
        docker_image: image,
        resources: fc.record(
          { cpu: quantity, memory: quantity, cpu_limit: quantity, memory_limit: quantity, gpu: int(0, 16) },
          { requiredKeys: ['cpu', 'memory'] },
        ),
        health_check_endpoint: fc.stringMatching(/^\/[\w\-./]{0,20}$/),
        health_check: fc.record({
          interval_secs: int(1, 3600),
          timeout_secs: int(1, 600),
          consecutive_failures_threshold: int(1, 100),
          auto_restart_enabled: fc.boolean(),
        }),
        capabilities: fc.uniqueArray(
          fc.record({
            id: fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+){0,2}$/),
            name: nonEmptyText(40),
            description: text(100),
            complexity: fc.constantFrom('Low', 'Medium', 'High', 'Critical'),
          }),
          { minLength: 1, maxLength: 3, selector: (c) => c.id },
        ),
        skills: fc.array(nonEmptyText(20), { maxLength: 3 }),
        llm_provider: fc.constantFrom('claude', 'openai', 'gemini', 'ollama', 'offline'),
        llm_model: nonEmptyText(40),
        max_concurrent_tasks: int(1, 1000),
        tools,
        documentation: text(200),
      },
      {
        requiredKeys: [
          'id',
          'name',
          'version',
          'role',
          'docker_image',
          'resources',
          'health_check_endpoint',
          'health_check',
          'capabilities',
          'llm_provider',
          'llm_model',
          'max_concurrent_tasks',
        ],
      },
    )
    .map((m) => structuredClone(m) as AgentManifestInput); // plain objects, as a file gives them
const validManifest = manifestWith(identifier);

/** The reference model of a manifest's defaults. */
function normalized(m: AgentManifestInput): AgentManifest {
  return {
    skills: [],
    documentation: '',
    ...m,
    resources: { gpu: 0, ...m.resources },
    dependencies: (m.dependencies ?? []).map((d) => ({ optional: false, ...d })),
    ...(m.tools && {
      tools: {
        max_steps: 12,
        ...m.tools,
        mcp_servers: m.tools.mcp_servers.map((s) => ('command' in s ? { args: [], ...s } : s)),
      },
    }),
  } as AgentManifest;
}

type Format = 'yaml' | 'yml' | 'json';
const format = fc.constantFrom<Format>('yaml', 'yml', 'json');
const serialize = (value: unknown, as: Format) => (as === 'json' ? JSON.stringify(value, null, 2) : stringify(value));

/** Loads `path`; a refusal must be a ValidationError whose every problem starts with a file's name. */
function loadOrRefuse(path: string, files: string[]): { manifests?: AgentManifest[]; problems?: string[] } {
  try {
    return { manifests: loadManifests(path) };
  } catch (error) {
    assert.ok(error instanceof ValidationError, `not a ValidationError: ${String(error)}`);
    for (const problem of error.problems)
      assert.ok(
        files.some((f) => problem.startsWith(`${f}: `) || problem.startsWith(`${f}[`)),
        `names no file: ${problem}`,
      );
    return { problems: error.problems };
  }
}

// ---- semantic versions: a reference model of semver.org -------------------

/** semver.org's precedence (§11): numbers numerically, a prerelease below its release, identifiers one by one. */
function precedence(a: string, b: string): number {
  const parts = (v: string) => {
    const [core, pre] = v.split('+')[0]!.split(/-(.*)/s);
    return { core: core!.split('.').map(Number), pre: pre === undefined ? [] : pre.split('.') };
  };
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return Math.sign(x.core[i]! - y.core[i]!);
  if (!x.pre.length !== !y.pre.length) return x.pre.length ? -1 : 1;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i]!, y.pre[i]!];
    if (p === q) continue;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return Math.sign(x.pre.length - y.pre.length);
}
/** Versions close to each other, so comparisons meet every rule: equal cores, prereleases, numeric against alphanumeric. */
const nearVersion = fc
  .tuple(
    int(0, 2),
    int(0, 2),
    int(0, 2),
    fc.option(
      fc.array(fc.constantFrom('0', '1', '2', '10', 'alpha', 'beta', 'rc', 'a-1', '1a'), {
        minLength: 1,
        maxLength: 3,
      }),
      {
        nil: undefined,
      },
    ),
    fc.option(fc.constantFrom('build', '001', 'sha.5114f85'), { nil: undefined }),
  )
  .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`);
/** Strings near the grammar: leading zeros, prefixes, spaces, huge numbers, missing or empty parts. */
const nearlySemVer = fc.oneof(
  semver,
  nearVersion,
  fc.stringMatching(/^[v=]?\s?\d{1,3}(\.\d{1,3}){0,3}(-[0-9A-Za-z.-]{0,8})?(\+[0-9A-Za-z.-]{0,8})?\s?$/),
  fc
    .tuple(semver, fc.constantFrom('v', '=', ' ', '0', '00', '-', '+', '.', '9007199254740993', '\u0000'))
    .map(([v, p]) => p + v),
  fc.tuple(semver, fc.constantFrom(' ', '.', '-', '+', '.0', '-01', '+', 'x'.repeat(260))).map(([v, s]) => v + s),
  fc.stringMatching(/^[0-9]{1,20}\.[0-9]{1,20}\.[0-9]{1,20}$/),
  hostileString,
);

/** Whether `deps` (id → the ids it depends on) has a cycle: Kahn's algorithm, the reference model. */
function hasCycle(deps: Map<string, string[]>): boolean {
  const indegree = new Map([...deps.keys()].map((id) => [id, 0]));
  for (const targets of deps.values()) for (const t of targets) indegree.set(t, indegree.get(t)! + 1);
  const ready = [...indegree].filter(([, n]) => n === 0).map(([id]) => id);
  let removed = 0;
  while (ready.length) {
    const id = ready.pop()!;
    removed++;
    for (const t of deps.get(id)!) {
      indegree.set(t, indegree.get(t)! - 1);
      if (indegree.get(t) === 0) ready.push(t);
    }
  }
  return removed < deps.size;
}
/** Manifests a0…an depending on each other at random (roles and versions always met). */
const graph = fc.integer({ min: 1, max: 8 }).chain((n) => {
  const ids = Array.from({ length: n }, (_, i) => `a${i}`);
  return fc.tuple(
    fc.tuple(...ids.map((id) => role.map((r) => ({ ...developerManifest(), id, role: r })))),
    fc.tuple(...ids.map((id) => fc.subarray(ids.filter((other) => other !== id)))),
  );
});

describe('fuzz: manifests (YAML and JSON files, catalogs, dependencies, versions)', () => {
  it('a valid manifest loads as its normalized form, and what is loaded, written again, loads equal', () => {
    fc.assert(
      fc.property(
        fc.array(validManifest, { minLength: 1, maxLength: 3 }),
        format,
        format,
        (manifests, first, second) => {
          const dir = folder();
          const file = `manifests.${first}`;
          writeFileSync(join(dir, file), serialize(manifests.length === 1 ? manifests[0] : manifests, first));
          const loaded = loadManifests(join(dir, file));
          assert.deepStrictEqual(loaded, manifests.map(normalized));
          writeFileSync(join(dir, `again.${second}`), serialize(loaded, second));
          assert.deepStrictEqual(loadManifests(join(dir, `again.${second}`)), loaded);
        },
      ),
      fuzz(150),
    );
  });

  it('a field given a wrong value is refused naming the file and the field, with every other problem', () => {
    const paths = [
      'id',
      'name',
      'version',
      'role',
      'docker_image',
      'resources',
      'resources.cpu',
      'resources.gpu',
      'health_check_endpoint',
      'health_check.interval_secs',
      'health_check.auto_restart_enabled',
      'capabilities',
      'capabilities.0.id',
      'capabilities.0.complexity',
      'skills',
      'llm_provider',
      'max_concurrent_tasks',
      'tools',
      'tools.mcp_servers',
      'dependencies',
      'documentation',
    ];
    // What a file can hold: JSON and YAML write no bigint, symbol or function.
    const fileValue = fc.oneof(wrongType, deeplyNested, pollutingObject).filter((v) => {
      try {
        return JSON.stringify(v) !== undefined;
      } catch {
        return false;
      }
    });
    fc.assert(
      fc.property(validManifest, fc.constantFrom(...paths), fileValue, format, (manifest, path, bad, as) => {
        const dir = folder();
        const file = `bad.${as}`;
        const broken = structuredClone(manifest) as Record<string, unknown>;
        const keys = path.split('.');
        let at: Record<string, unknown> = broken;
        for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
        at[keys.at(-1)!] = bad;
        let written: string;
        try {
          written = serialize(broken, as);
        } catch {
          return; // too deep for the writer: nothing to read
        }
        writeFileSync(join(dir, file), written);
        const { problems } = loadOrRefuse(join(dir, file), [file]);
        if (problems && !problems.some((p) => p.includes('cannot be read')))
          assert.ok(
            problems.some((p) => p.startsWith(`${file}: ${path}`) || p.startsWith(`${file}: ${keys[0]}`)),
            `${path} is not named: ${problems.join('\n')}`,
          );
        assert.equal(prototypePolluted(), false);
      }),
      fuzz(200),
    );
  });

  it('any text in a manifest file is loaded or refused naming the file, never anything else', () => {
    const hostileText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
      fc.constantFrom(
        '',
        '---\n---\n',
        '%YAML 9.9\n---\n',
        '*undefined_alias',
        'a: &a [1]\nb: *a\n',
        // Billion laughs: aliases of aliases, which must not expand into memory.
        `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
          { length: 9 },
          (_, i) =>
            `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
              .fill(`*${String.fromCharCode(97 + i)}`)
              .join(',')}]`,
        ).join('\n')}\n`,
        '!!js/function "function () { return 1 }"',
        'id: !!binary aGVsbG8=',
        '__proto__: {polluted: yes}\nconstructor: {prototype: {polluted: yes}}\n',
        '{"__proto__": {"polluted": "yes"}}',
        '[1, 2',
        '{"id": 1e999}',
        '\ufeff{}',
        '\u0000',
      ),
      fc.integer({ min: 1, max: 3_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
      fc.integer({ min: 1, max: 500 }).map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(hostileText, format, (content, as) => {
        const dir = folder();
        const file = `any.${as}`;
        writeFileSync(join(dir, file), content);
        loadOrRefuse(join(dir, file), [file]);
        loadOrRefuse(dir, [file]);
        assert.equal(prototypePolluted(), false);
      }),
      fuzz(200),
    );
  });

  it('dependency cycles are reported iff there is one, each as a closed path of real dependencies; otherwise installs go in order', () => {
    fc.assert(
      fc.property(graph, ([manifests, targets]) => {
        const byId = new Map(manifests.map((m) => [m.id, m]));
        const parsed = manifests.map((m, i) =>
          AgentManifest.parse({
            ...m,
            dependencies: targets[i]!.map((t) => ({ agent_id: t, role: byId.get(t)!.role, min_version: '0.0.0' })),
          }),
        );
        const deps = new Map(parsed.map((m) => [m.id, m.dependencies.map((d) => d.agent_id)]));
        const cycles = dependencyProblems(parsed).map((p) => /^dependency cycle: (.+)$/.exec(p)?.[1]?.split(' -> '));
        assert.ok(
          cycles.every((c) => c !== undefined),
          'only cycles can be wrong here',
        );
        assert.equal(cycles.length > 0, hasCycle(deps));
        for (const cycle of cycles) {
          assert.equal(cycle[0], cycle.at(-1));
          for (let i = 1; i < cycle.length; i++)
            assert.ok(deps.get(cycle[i - 1]!)!.includes(cycle[i]!), cycle.join(' -> '));
        }
        if (!cycles.length) {
          const order = installOrder(parsed).map((m) => m.id);
          assert.deepStrictEqual([...order].sort(), [...deps.keys()].sort());
          for (const [id, needs] of deps) for (const n of needs) assert.ok(order.indexOf(n) < order.indexOf(id));
        }
      }),
      fuzz(300),
    );
  });

  it('SemVer takes exactly what semver.org defines (within its limits), and version ranges agree with its precedence', () => {
    fc.assert(
      fc.property(nearlySemVer, (v) => {
        assert.equal(SemVer.safeParse(v).success, isSemVer(v), JSON.stringify(v));
      }),
      fuzz(1_000),
    );
    fc.assert(
      fc.property(fc.oneof(nearVersion, semver), fc.oneof(nearVersion, semver), (installed, min) => {
        const dependency = AgentManifest.parse({
          ...developerManifest(),
          id: 'needs',
          dependencies: [{ agent_id: 'target', role: 'architect', min_version: min }],
        });
        const target = AgentManifest.parse({
          ...dependency,
          id: 'target',
          role: 'architect',
          version: installed,
          dependencies: [],
        });
        const tooOld = precedence(installed, min) < 0;
        const problems = dependencyProblems([dependency], [target]);
        assert.equal(
          problems.some((p) => p.includes(`needs target >= ${min}`)),
          tooOld,
          `${installed} against >= ${min}`,
        );
        const agent: AgentMetadata = agentMetadata('target-001', { manifest_id: 'target', version: installed });
        assert.equal(dependencyStates(dependency, [agent])[0]!.unmet !== undefined, tooOld);
      }),
      fuzz(500),
    );
  });

  it('a catalog of valid manifests, signed or not, reads back as loaded; a changed file or a hostile index is refused by name', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(root, 'catalog-key.pem');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const trusted = publicKeyOf(rawPublicKey(publicKey));
    const manifests = fc.uniqueArray(validManifest, { minLength: 1, maxLength: 4, selector: (m) => m.id });
    const hostileIndex = fc.oneof(
      fc.jsonValue(),
      fc.record({ name: fc.jsonValue(), manifests: fc.jsonValue() }),
      pollutingObject,
    );
    await fc.assert(
      fc.asyncProperty(
        manifests,
        format,
        fc.boolean(),
        fc.nat(),
        hostileIndex,
        async (list, as, signed, pick, index) => {
          const dir = folder();
          list.forEach((m, i) => writeFileSync(join(dir, `m${i}.${as}`), serialize(m, as)));
          buildCatalogIndex(dir, 'fuzz', signed ? keyFile : undefined);
          const read = await readCatalog(dir, signed ? trusted : undefined);
          assert.deepStrictEqual(read.manifests, loadManifests(dir));
          assert.deepStrictEqual(read.manifests, list.map(normalized));
          // One byte more in one file: its digest no longer matches, and the refusal says which file.
          const changed = `m${pick % list.length}.${as}`;
          writeFileSync(join(dir, changed), `${readFileSync(join(dir, changed), 'utf8')}\n`);
          await assert.rejects(readCatalog(dir), (e: ValidationError) => {
            assert.ok(e instanceof ValidationError);
            assert.match(e.message, new RegExp(`^invalid catalog fuzz \\(${dir}\\):\\n  - ${changed}: sha256 `));
            return true;
          });
          // Any other index: refused naming the catalog, unless it happens to be a valid one listing nothing.
          writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
          const other = await readCatalog(dir).catch((e: Error) => assert.match(e.message, /^(invalid )?catalog /));
          if (other) assert.deepStrictEqual(other.manifests, []);
          rmSync(dir, { recursive: true });
        },
      ),
      fuzz(40),
    );
  });
});
