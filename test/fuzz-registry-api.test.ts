import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiAuth } from '../src/control-plane/api-auth';
import { registryApi } from '../src/control-plane/registry-api';
import { AGENT_ROLES, TaskStatus } from '../src/domain';
import { createLogger } from '../src/logger';
import { RegistryStore, scopeOf } from '../src/registry/registry-store';
import { readOperatorToken } from '../src/state-secrets';
import {
  anyValue,
  asJson,
  deeplyNested,
  fuzz,
  hostileString,
  identifier,
  jsonData,
  key,
  nonEmptyText,
  pollutingObject,
  prototypePolluted,
  text,
  wrongType,
} from './support/arbitraries';
import { tempDir } from './support/servers';

/** Property-based tests of the registry API's bodies, queries and paths, on a real embedded SurrealDB. */

const stateDir = tempDir('fuzz-api');
const auth = ApiAuth.of(stateDir);
const operator = `Bearer ${readOperatorToken(stateDir)!}`;

const validArtifact = fc.record(
  {
    id: identifier,
    kind: nonEmptyText(40),
    title: text(200),
    content: fc.oneof(text(2_000), fc.lorem({ maxCount: 200 })),
    feature_id: identifier,
    task_id: identifier,
  },
  { requiredKeys: ['id', 'kind', 'title', 'content'] },
);
const validKnowledge = fc.record({
  key: key(256),
  context_type: nonEmptyText(40),
  from_agent: nonEmptyText(40),
  to_roles: fc.uniqueArray(fc.constantFrom(...AGENT_ROLES), { maxLength: 3 }),
  data: jsonData,
  ttl_minutes: fc.integer({ min: 1, max: 525_600 }),
});

/** A knowledge entry's body with `data` as given, in JSON. */
const knowledgeWith = (data: string) =>
  `{"key": "k", "context_type": "t", "from_agent": "a", "to_roles": [], "ttl_minutes": 5, "data": ${data}}`;

/** What a refused request answers: a 4xx with a JSON error, never a 5xx. */
async function refusal(response: Response): Promise<string> {
  const text = await response.text();
  assert.ok(response.status >= 400 && response.status < 500, `answered ${response.status}: ${text}`);
  const body = JSON.parse(text) as { error?: unknown };
  assert.equal(typeof body.error, 'string', text);
  return body.error as string;
}

/** A 400 from validation names a field of the request (`field: rule`), or the request itself. */
const namesAField = (error: string, subject: string, fields: string[]) =>
  assert.match(
    error,
    new RegExp(`^invalid ${subject}:\\n(  - (${[subject, ...fields].join('|')})\\b.*(\\n|$))+`),
    error,
  );

describe('fuzz: registry API (bodies, queries, paths; embedded SurrealDB)', () => {
  let registry: RegistryStore;
  let api: ReturnType<typeof registryApi>;
  const send = (method: string, path: string, body?: string, contentType = 'application/json') =>
    api.request(path, {
      method,
      headers: { authorization: operator, ...(contentType && { 'content-type': contentType }) },
      body,
    });
  /** What is stored: a refused request must leave it as it was. */
  const stored = async () => ({
    artifacts: await registry.artifacts.count(),
    // Expired entries too: one expiring between two counts is no write.
    knowledge: (await registry.knowledge.list({}, new Date(0))).length,
    catalogs: await registry.catalogs.count(),
    manifests: await registry.manifests.count(),
  });

  before(async () => {
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'fuzz' });
    api = registryApi(registry, createLogger('fuzz-api', { write: () => undefined }), { auth });
  });
  after(() => registry.close());

  it('a hostile body is refused with a 4xx naming the field, and writes nothing', async () => {
    const endpoints: { method: string; path: string; subject: string; valid: fc.Arbitrary<Record<string, unknown>> }[] =
      [
        { method: 'POST', path: '/v1/artifacts', subject: 'artifact', valid: validArtifact },
        { method: 'POST', path: '/v1/knowledge', subject: 'knowledge', valid: validKnowledge },
        {
          method: 'POST',
          path: '/v1/catalogs',
          subject: 'catalog',
          // Only folders: a URL would be fetched.
          valid: fc.record({ name: identifier, source: fc.constantFrom('/nonexistent', stateDir, '/') }),
        },
        {
          method: 'PUT',
          path: '/v1/catalogs/fuzz/trust',
          subject: 'trust',
          valid: fc.record({ public_key: nonEmptyText() }),
        },
        {
          method: 'POST',
          path: '/v1/writes',
          subject: 'writes',
          valid: fc.record({
            artifacts: fc.array(validArtifact, { minLength: 1, maxLength: 3 }),
            knowledge: fc.array(validKnowledge, { maxLength: 2 }),
          }),
        },
      ];
    const notAUrl = (v: unknown) => !(typeof v === 'string' && /^https?:/i.test(v));
    const body = (valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<{ text: string; field?: string }> =>
      fc.oneof(
        // A valid body with one field wrong.
        {
          arbitrary: fc
            .tuple(valid, fc.oneof(wrongType.filter(notAUrl), deeplyNested, pollutingObject), fc.nat())
            .map(([fields, bad, pick]) => {
              const field = Object.keys(fields)[pick % Object.keys(fields).length]!;
              return { text: asJson({ ...fields, [field]: bad }), field };
            }),
          weight: 20,
        },
        // Not JSON, JSON of anything, or huge.
        {
          arbitrary: fc
            .oneof(hostileString, fc.string(), fc.constantFrom('{', '[', '{"a":', 'null', '1e999', '"\\ud800"'))
            .map((t) => ({ text: t })),
          weight: 10,
        },
        { arbitrary: anyValue.map((v) => ({ text: asJson(v) })), weight: 10 },
        {
          arbitrary: fc.constant({
            text: `{"id":"big","kind":"k","title":"","content":"${'x'.repeat(8 * 1024 * 1024)}"}`,
          }),
          weight: 1,
        },
      );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(endpoints.length - 1).chain((i) => fc.tuple(fc.constant(i), body(endpoints[i]!.valid))),
        fc.constantFrom('application/json', 'text/plain', ''),
        async ([i, { text: raw, field }], contentType) => {
          const endpoint = endpoints[i]!;
          const before = await stored();
          const response = await send(endpoint.method, endpoint.path, raw, contentType);
          if (response.status === 200) return; // the wrong value happened to be a right one
          const error = await refusal(response);
          assert.deepStrictEqual(
            await stored(),
            before,
            `${endpoint.path} wrote though it answered ${response.status}`,
          );
          // A body not said to be JSON is refused as such, not read as {} with every field missing.
          if (contentType !== 'application/json') assert.equal(response.status, 415, error);
          else if (response.status === 400 && field && error.startsWith('invalid '))
            namesAField(error, endpoint.subject, [field]);
          assert.equal(prototypePolluted(), false);
        },
      ),
      // Found by this property: deep data and whole numbers past 2^53 answered 500 (the latter not even an Error),
      // and a body sent as text/plain was read as {}, every field reported missing.
      fuzz<[[number, { text: string; field?: string }], string]>(200, {
        share: 1 / 10,
        examples: [
          [[1, { text: knowledgeWith(`${'['.repeat(300)}1${']'.repeat(300)}`), field: 'data' }], 'application/json'],
          [[1, { text: knowledgeWith('{"n": 1e21}'), field: 'data' }], 'application/json'],
          [[0, { text: '{"id": "a", "kind": "adr", "title": "ADR", "content": "# ADR"}' }], 'text/plain'],
        ],
      }),
    );
  });

  it('a valid artifact or knowledge entry reads back as written', async () => {
    await fc.assert(
      fc.asyncProperty(validArtifact, validKnowledge, async (artifact, knowledge) => {
        const written = await send('POST', '/v1/artifacts', JSON.stringify(artifact));
        assert.equal(written.status, 200, await written.clone().text());
        const read = (await (await api.request(`/v1/artifacts/${artifact.id}`)).json()) as Record<string, unknown>;
        assert.deepStrictEqual(read, { ...artifact, writer: 'operator', created_at: read.created_at });
        const shared = await send('POST', '/v1/knowledge', JSON.stringify(knowledge));
        assert.equal(shared.status, 200, await shared.clone().text());
        // A key starting with "/" has an empty scope, which no filter names.
        const scope = scopeOf(knowledge.key) && `?scope=${encodeURIComponent(scopeOf(knowledge.key))}`;
        const listed = (await (await api.request(`/v1/knowledge${scope}`)).json()) as Record<string, unknown>[];
        const entry = listed.find((k) => k.key === knowledge.key);
        const { ttl_minutes: _ttl, ...rest } = knowledge;
        assert.deepStrictEqual(entry, {
          ...JSON.parse(JSON.stringify(rest)),
          created_at: entry?.created_at,
          expires_at: entry?.expires_at,
        });
        // What the store would change (a lone surrogate to U+FFFD, a `__proto__` key dropped) is refused by name.
        const refusedAt = async (path: string, body: object, subject: string, field: string) => {
          const before = await stored();
          const response = await send('POST', path, JSON.stringify(body));
          assert.equal(response.status, 400);
          namesAField(await refusal(response), subject, [field]);
          assert.deepStrictEqual(await stored(), before);
        };
        await refusedAt('/v1/artifacts', { ...artifact, title: `${artifact.title}\ud800` }, 'artifact', 'title');
        const polluting = JSON.parse('{"__proto__": {"polluted": "yes"}}') as object;
        await refusedAt('/v1/knowledge', { ...knowledge, data: polluting }, 'knowledge', 'data.__proto__');
      }),
      fuzz(60, { share: 1 / 10 }),
    );
  });

  it('a hostile query or path is answered 200, 400 naming the field, or 404; never 5xx', async () => {
    const routes = [
      { path: '/v1/tasks', subject: 'task filter', fields: ['feature_id', 'agent_id', 'status', 'role'] },
      { path: '/v1/decisions', subject: 'decision filter', fields: ['feature_id', 'task_id'] },
      { path: '/v1/artifacts', subject: 'artifact filter', fields: ['feature_id', 'task_id', 'kind'] },
      { path: '/v1/knowledge', subject: 'knowledge filter', fields: ['role', 'context_type', 'scope'] },
      { path: '/v1/context/search', subject: 'context query', fields: ['q', 'feature_id', 'k'] },
    ];
    // Percent-encoded (a lone surrogate as its replacement), or raw escapes that decode to nothing valid.
    const pct = (s: string) => encodeURIComponent(s.replace(/\p{Cs}/gu, '\ufffd'));
    const value = fc.oneof(
      hostileString.filter((s) => s.length < 5_000).map(pct),
      fc.constantFrom(...TaskStatus.options, ...AGENT_ROLES, '0', '51', '-1', '1.5', 'NaN', 'Infinity').map(pct),
      fc.constantFrom('%', '%zz', '%ED%A0%80', '%00', '%FF', '%C0%AF'),
    );
    const query = fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'feature_id',
            'task_id',
            'agent_id',
            'status',
            'role',
            'kind',
            'context_type',
            'scope',
            'q',
            'k',
          ),
          fc.string(),
        ),
        value,
      ),
      { maxLength: 4 },
    );
    const paths = fc.oneof(
      fc.tuple(fc.constantFrom(...routes), query).map(([route, pairs]) => ({
        url: `${route.path}?${pairs.map(([k, v]) => `${pct(k)}=${v}`).join('&')}`,
        route,
      })),
      fc
        .tuple(
          fc.constantFrom('/v1/artifacts/', '/v1/agents/', '/v1/manifests/', '/v1/tasks/'),
          value,
          fc.constantFrom('', '/history'),
        )
        .map(([prefix, id, suffix]) => ({
          url: `${prefix}${id}${suffix}`,
          route: undefined,
        })),
    );
    await fc.assert(
      fc.asyncProperty(paths, fc.constantFrom('GET', 'DELETE'), async ({ url, route }, method) => {
        const response = await api.request(
          route || method === 'GET' ? url : url.replace('/v1/artifacts/', '/v1/catalogs/'),
          {
            method: route ? 'GET' : method,
            headers: { authorization: operator },
          },
        );
        if (response.status === 200) return;
        const error = await refusal(response);
        if (response.status === 400 && route) namesAField(error, route.subject, route.fields);
      }),
      fuzz(300),
    );
  });
});
