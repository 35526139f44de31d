import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../src/client/registry-client';
import { serveRegistryApi } from '../src/control-plane/registry-api';
import { createLogger } from '../src/logger';
import { RegistryStore } from '../src/registry/registry-store';
import { freePort } from '../src/host/ports';
import { ApiAuth, signerOf } from '../src/control-plane/api-auth';
import { sealApproval, verifySeal } from '../src/control-plane/approval-seal';
import { readOperatorToken } from '../src/state-secrets';
import { tempDir } from './support/servers';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)),
  );

describe('registry API (Hono, embedded SurrealDB)', () => {
  let registry: RegistryStore;
  let server: Server;
  let url: string;
  let client: RegistryClient;
  const stateDir = tempDir('api');
  const auth = ApiAuth.of(stateDir);
  const operatorToken = readOperatorToken(stateDir)!;

  before(async () => {
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'api' });
    const port = await freePort();
    server = await serveRegistryApi(registry, port, createLogger('test-api', { write: () => undefined }), { auth });
    url = `http://127.0.0.1:${port}`;
    client = new RegistryClient(url, operatorToken);
  });

  after(async () => {
    server.close();
    await registry.close();
  });

  it('stores and returns what agents write, through the client', async () => {
    const ref = await client.putArtifact({ id: 'adr-1', kind: 'adr', title: 'ADR', content: '# ADR\n' });
    assert.deepEqual(ref, { id: 'adr-1', kind: 'adr', title: 'ADR', bytes: 6 });
    assert.equal((await client.artifact('adr-1'))?.content, '# ADR\n');
    assert.equal(await client.artifact('nothing-here'), undefined);
    await client.shareKnowledge({
      key: 'f-1/architect',
      context_type: 'adr',
      from_agent: 'architect-001',
      to_roles: [],
      data: { a: 1 },
      ttl_minutes: 5,
    });
    assert.deepEqual(
      (await client.knowledge({ scope: 'f-1' })).map((k) => [k.key, k.data]),
      [['f-1/architect', { a: 1 }]],
    );
  });

  it("waits for a restarting control plane when told to (an agent's step in flight), and a person's command does not", async () => {
    const port = await freePort();
    const down = `http://127.0.0.1:${port}`;
    await assert.rejects(
      new RegistryClient(down, operatorToken).artifact('adr-1'),
      new RegExp(`the control plane does not answer at ${down}`),
    );
    const waiting = RegistryClient.of({ url: down, token: operatorToken }, { waitForPlaneMs: 20_000 });
    const asked = waiting.putArtifact({ id: 'adr-wait', kind: 'adr', title: 'ADR', content: 'kept\n' });
    await new Promise((r) => setTimeout(r, 1_000));
    // The plane comes back on its port: the write, refused until then, lands once.
    const back = await serveRegistryApi(registry, port, createLogger('test-api', { write: () => undefined }), { auth });
    try {
      assert.equal((await asked).bytes, 5);
      assert.equal((await client.artifact('adr-wait'))?.content, 'kept\n');
    } finally {
      back.close();
    }
  });

  it('refuses bad bodies and queries with 400, naming the field', async () => {
    const post = (path: string, body: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${operatorToken}` },
        body,
      });
    const badTtl = await post(
      '/v1/knowledge',
      JSON.stringify({ key: 'k', context_type: 't', from_agent: 'a', to_roles: [], data: 1, ttl_minutes: 0 }),
    );
    assert.equal(badTtl.status, 400);
    assert.match(
      ((await badTtl.json()) as { error: string }).error,
      /^invalid knowledge:\n {2}- ttl_minutes: Too small/,
    );
    const badStatus = await fetch(`${url}/v1/tasks?status=sleeping`);
    assert.equal(badStatus.status, 400);
    assert.match(
      ((await badStatus.json()) as { error: string }).error,
      /invalid task filter:\n {2}- status: Invalid option/,
    );
    const malformed = await post('/v1/artifacts', '{not json');
    assert.equal(malformed.status, 400);
    const unknown = await fetch(`${url}/v1/nothing`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: 'no route for GET /v1/nothing' });
  });

  it("lets only holders of a token it issued write, and no agent overwrite another's work or speak for it", async () => {
    const as = (token: string | undefined) => new RegistryClient(url, token);
    const architect = as(auth.agentToken('architect-001'));
    const developer = as(auth.agentToken('developer-001'));
    const adr = { id: 'adr-owned', kind: 'adr', title: 'ADR', content: 'by the architect' };
    const fact = { key: 'f-2/x', context_type: 'c', to_roles: [], data: 1, ttl_minutes: 5 };

    await assert.rejects(as(undefined).putArtifact(adr), /401.*authentication required/s);
    await assert.rejects(as('vag_architect-001.forged').putArtifact(adr), /401.*invalid token/s);
    await assert.rejects(as(auth.agentToken('architect-001') + 'x').putArtifact(adr), /401/);
    assert.equal(await client.artifact('adr-owned'), undefined, 'nothing written');

    await architect.putArtifact(adr);
    assert.equal((await client.artifact('adr-owned'))?.writer, 'architect-001');
    await assert.rejects(
      developer.putArtifact({ ...adr, content: 'overwritten' }),
      /403.*adr-owned is architect-001's: developer-001 may not overwrite it/s,
    );
    await architect.putArtifact({ ...adr, content: 'revised by the architect' });
    assert.equal((await client.artifact('adr-owned'))?.content, 'revised by the architect');

    await assert.rejects(
      developer.shareKnowledge({ ...fact, from_agent: 'architect-001' }),
      /403.*developer-001 may not share knowledge as architect-001/s,
    );
    await architect.shareKnowledge({ ...fact, from_agent: 'architect-001' });
    await assert.rejects(
      developer.shareKnowledge({ ...fact, from_agent: 'developer-001' }),
      /403.*f-2\/x is architect-001's/s,
    );
    await assert.rejects(developer.addCatalog({ name: 'mine', source: '/tmp' }), /403.*only the operator/s);

    // A pod's pool token writes for that pool's agents only.
    const pool = as(auth.poolToken('developer'));
    await pool.shareKnowledge({ ...fact, key: 'f-2/y', from_agent: 'developer-002' });
    await assert.rejects(pool.shareKnowledge({ ...fact, key: 'f-2/z', from_agent: 'developer-ops-001' }), /403/);
    // A person's token (for signing approvals) is theirs: it writes as no agent.
    assert.deepEqual(auth.identify(`Bearer ${auth.personToken('alice')}`), { kind: 'person', name: 'alice' });
    assert.equal(auth.identify(`Bearer vpp_alice.${auth.personToken('bob').split('.')[1]}`), undefined);
    const alice = as(auth.personToken('alice'));
    await assert.rejects(
      alice.putArtifact({ ...adr, content: 'by alice' }),
      /403.*adr-owned is architect-001's: person:alice may not overwrite it/s,
    );
    await assert.rejects(
      alice.shareKnowledge({ ...fact, key: 'f-2/p', from_agent: 'architect-001' }),
      /403.*person:alice may not share knowledge as architect-001/s,
    );
    await assert.rejects(alice.addCatalog({ name: 'mine', source: '/tmp' }), /403.*only the operator/s);
    // The operator may correct anything.
    await client.putArtifact({ ...adr, content: 'corrected' });
    assert.equal((await client.artifact('adr-owned'))?.writer, 'operator');
  });

  it("stores several writes in one request, in order, and refuses them all when one is not the writer's", async () => {
    const architect = new RegistryClient(url, auth.agentToken('architect-001'));
    const developer = new RegistryClient(url, auth.agentToken('developer-001'));
    const part = (id: string, content: string) => ({ id, kind: 'conversation', title: id, content });
    const fact = {
      key: 'f-3/architect',
      context_type: 'adr',
      to_roles: [],
      data: { artifact: 'f-3-adr' },
      ttl_minutes: 5,
    };
    const queries = registry.queries;
    const done = await architect.write({
      artifacts: [part('f-3-c0', 'opening'), part('f-3-m1', 'answer'), { ...part('f-3-adr', '# ADR'), kind: 'adr' }],
      knowledge: [{ ...fact, from_agent: 'architect-001' }],
    });
    // Whose each item is (artifacts and knowledge together), the artifacts, the ADR's passages, the knowledge and its
    // passages: a query each, however many artifacts (the conversation's are not searchable).
    assert.equal(registry.queries - queries, 5);
    assert.deepEqual(
      done.artifacts.map((a) => [a.id, a.bytes]),
      [
        ['f-3-c0', 7],
        ['f-3-m1', 6],
        ['f-3-adr', 5],
      ],
    );
    assert.deepEqual(
      done.knowledge.map((k) => [k.key, k.from_agent]),
      [['f-3/architect', 'architect-001']],
    );
    assert.equal((await client.artifact('f-3-m1'))?.writer, 'architect-001');
    assert.deepEqual((await client.knowledge({ scope: 'f-3' }))[0]?.data, { artifact: 'f-3-adr' });
    // Knowledge that restates its artifact keeps no passages of its own: what an earlier entry under its key left is
    // cleared, one query more, and a key that held none has nothing to clear.
    const restating = async () => {
      const before = registry.queries;
      await architect.write({
        artifacts: [{ ...part('f-3-adr', '# ADR'), kind: 'adr' }],
        knowledge: [
          { ...fact, key: 'f-3/summary', data: { summary: 'ADR', artifact: 'f-3-adr' }, from_agent: 'architect-001' },
        ],
      });
      return registry.queries - before;
    };
    assert.equal(await restating(), 4);
    assert.equal(await restating(), 5);

    // One item that is another's refuses the request before anything in it is stored.
    await assert.rejects(
      developer.write({ artifacts: [part('f-3-new', 'mine'), part('f-3-m1', 'overwritten')] }),
      /403.*f-3-m1 is architect-001's: developer-001 may not overwrite it/s,
    );
    await assert.rejects(
      developer.write({ artifacts: [part('f-3-new', 'mine')], knowledge: [{ ...fact, from_agent: 'architect-001' }] }),
      /403.*developer-001 may not share knowledge as architect-001/s,
    );
    assert.equal(await client.artifact('f-3-new'), undefined, 'nothing of a refused request is stored');
    assert.equal((await client.artifact('f-3-m1'))?.content, 'answer');
    await assert.rejects(new RegistryClient(url).write({ artifacts: [part('f-3-new', 'mine')] }), /401/);
    await assert.rejects(architect.write({}), /400.*invalid writes:\n {2}- writes: nothing to write/s);
    await assert.rejects(
      architect.write({ artifacts: [{ ...part('f-3-new', 'x'), kind: '' }] }),
      /400.*invalid writes:\n {2}- artifacts\.0\.kind/s,
    );
  });

  it('checks approval seals: the signer proved by its token, never a forged, stale or misnamed one', () => {
    const at = '2030-01-01T12:00:00.000Z';
    const fields = {
      workflowId: 'feature-f-1',
      kind: 'approve' as const,
      by: 'alice',
      text: 'ok',
      signer: 'alice',
      at,
    };
    const sealed = (token: string, f = fields) => ({ ...f, seal: sealApproval(token, f) });
    const alice = auth.personToken('alice');
    assert.deepEqual(verifySeal(auth, sealed(alice), '2030-01-01T12:05:00.000Z'), { signer: 'alice' });
    assert.deepEqual(verifySeal(auth, sealed(operatorToken, { ...fields, by: 'gina', signer: 'operator' }), at), {
      signer: 'operator',
    });
    const refused = (f: ReturnType<typeof sealed>, received = at) =>
      (verifySeal(auth, f, received) as { refused?: string }).refused;
    assert.equal(
      refused(sealed(ApiAuth.of(tempDir('other')).personToken('alice'))),
      "the seal was not made with alice's token",
    );
    assert.equal(refused({ ...sealed(alice), text: 'changed' }), "the seal was not made with alice's token");
    assert.equal(refused({ ...sealed(alice), workflowId: 'feature-f-2' }), "the seal was not made with alice's token");
    assert.match(refused(sealed(alice), '2030-01-01T12:16:00.000Z') ?? '', /more than 15 minutes from when it arrived/);
    assert.equal(refused(sealed(alice, { ...fields, by: 'bob' })), 'by "bob" is not the token\'s person (alice)');
    assert.equal(signerOf(alice), 'alice');
    assert.equal(signerOf(operatorToken), 'operator');
    assert.equal(signerOf(auth.agentToken('architect-001')), undefined);
    assert.throws(() => auth.personToken('operator'), /cannot name a person/);
  });

  it('has the client refuse a reply that does not match its schema, naming the field', async () => {
    const impostor = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id":5}]'),
    );
    try {
      const wrong = new RegistryClient(await listen(impostor));
      await assert.rejects(wrong.agents(), /invalid registry API reply to GET \/v1\/agents:\n {2}- 0\.id: /);
    } finally {
      impostor.close();
    }
  });
});
