import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, Connection } from '@temporalio/client';
import type { Server } from 'node:http';
import { EventBus } from '../src/bus/event-bus';
import { featureStatus } from '../src/client/feature-status';
import { mcpOverHttp } from '../src/client/mcp-server';
import { ApiAuth } from '../src/control-plane/api-auth';
import { readOperatorToken } from '../src/state-secrets';
import { RegistryClient } from '../src/client/registry-client';
import { serveRegistryApi } from '../src/control-plane/registry-api';
import { createLogger } from '../src/logger';
import { freePort } from '../src/host/ports';
import { PROJECT_ROOT, VAPORA_VERSION } from '../src/host/project';
import { RegistryStore } from '../src/registry/registry-store';
import { DOCUMENTS, QUESTIONS } from './fixtures/retrieval-corpus';
import { createEmbedder } from '../src/llm/embedding-model';
import { startEmbeddingServer } from './support/embedding-server';
import { takeInSharedContext } from '../src/control-plane/context-intake';
import { eventually } from './support/fleet';
import { tempDir, testConverter, testServers, unique } from './support/servers';
import { registryProcess } from './support/registry-process-client';
import { agentMetadata } from './support/fixtures';

/** A task the agent developer-042 had, created a minute apart in order. */
const taskRecord = (id: string, status: 'completed' | 'running', minute = status === 'running' ? 2 : 1) => ({
  id,
  role: 'developer' as const,
  title: id,
  status,
  agent_id: 'developer-042',
  priority: 'normal' as const,
  retry_count: 0,
  created_at: `2030-01-01T00:0${minute}:00.000Z`,
  updated_at: `2030-01-01T00:0${minute}:00.000Z`,
});

const artifact = (id: string, content: string, feature_id: string) => ({
  id,
  kind: id.split('-')[0]!,
  title: id,
  content,
  feature_id,
  created_at: new Date().toISOString(),
});

/** The corpus's questions asked of `registry`: recall@5, and the questions whose source was not in the top 5. */
async function recallAt5(registry: RegistryStore) {
  const missed: string[] = [];
  for (const [question, expected] of QUESTIONS) {
    const found = await registry.passages.search({ text: question, feature_id: 'corpus', k: 5 });
    if (!found.some((p) => p.source === `artifact:${expected}`)) missed.push(`${question} → ${expected}`);
  }
  return { recall: 1 - missed.length / QUESTIONS.length, missed };
}

const putCorpus = async (registry: RegistryStore) => {
  for (const [id, text] of Object.entries(DOCUMENTS)) await registry.artifacts.put(artifact(id, text, 'corpus'));
};

const top5 = async (registry: RegistryStore, text: string) =>
  (await registry.passages.search({ text, k: 5 })).map((p) => p.source);

describe('retrieval over the shared context (embedded SurrealDB: BM25, and vectors with an embedding model)', () => {
  it('finds the document that answers a question in the top 5, for at least 90% of the questions', async (t) => {
    const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'rag' });
    try {
      await putCorpus(registry);
      const { recall, missed } = await recallAt5(registry);
      t.diagnostic(
        `recall@5 ${recall.toFixed(3)} over ${QUESTIONS.length} questions, ${Object.keys(DOCUMENTS).length} documents`,
      );
      assert.ok(Object.keys(DOCUMENTS).length >= 50 && QUESTIONS.length >= 30);
      assert.ok(recall >= 0.9, `recall@5 ${recall}; missed:\n${missed.join('\n')}`);
    } finally {
      await registry.close();
    }
  });

  it('fuses BM25 with vectors from an embedding model (a local server speaking the OpenAI embeddings wire format)', async (t) => {
    const server = await startEmbeddingServer();
    const embedder = createEmbedder({
      provider: 'openai',
      model: 'trigrams-256',
      settings: { apiKey: 'sk-embedding-test', baseUrl: server.url },
    });
    const lines: string[] = [];
    const log = createLogger('test', { write: (line) => lines.push(line) });
    const hybrid = await RegistryStore.open(
      { url: 'mem://', namespace: 'vapora', database: 'hybrid' },
      { embedder, log },
    );
    const words = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'words' });
    try {
      await Promise.all([putCorpus(hybrid), putCorpus(words)]);
      const { recall, missed } = await recallAt5(hybrid);
      t.diagnostic(`hybrid recall@5 ${recall.toFixed(3)} over ${QUESTIONS.length} questions`);
      assert.ok(recall >= 0.9, `recall@5 ${recall}; missed:\n${missed.join('\n')}`);
      assert.equal(await hybrid.passages.embedMissing(), 0, 'every passage got its vector as it was written');
      assert.ok(server.seen.every((r) => r.headers.authorization === 'Bearer sk-embedding-test'));

      // Every word misspelt: none is in the index, so words alone find nothing; the vectors still do.
      const misspelt = 'requsts usr tokn buckt';
      assert.deepEqual(await top5(words, misspelt), []);
      assert.ok((await top5(hybrid, misspelt)).includes('artifact:adr-rate-limit'));

      // The model refuses: the artifact is stored and found by its words, and gets its vector once the model is back.
      server.state.refusing = true;
      await hybrid.artifacts.put(artifact('adr-reconcile', 'The quarterly reconciliation job runs at 02:00 UTC.', 'x'));
      assert.equal((await top5(hybrid, 'reconciliation'))[0], 'artifact:adr-reconcile');
      assert.ok(lines.some((l) => l.includes('embedding model failed')));
      assert.ok(!lines.some((l) => l.includes('sk-embedding-test')), 'the key is never logged');
      server.state.refusing = false;
      assert.equal(await hybrid.passages.embedMissing(), 1);
      assert.equal((await top5(hybrid, 'quartrly reconcilation'))[0], 'artifact:adr-reconcile');
    } finally {
      await Promise.all([hybrid.close(), words.close(), server.close()]);
    }
  });

  it('keeps features apart, forgets what expired or was removed', async () => {
    const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'scopes' });
    const now = new Date('2030-01-01T00:00:00Z');
    try {
      await registry.artifacts.put(artifact('adr-one', 'The ledger uses double entry bookkeeping', 'feature-one'));
      await registry.artifacts.put(
        artifact('adr-two', 'The ledger of feature two is kept in a spreadsheet', 'feature-two'),
      );
      await registry.knowledge.share(
        {
          key: 'feature-one/fact',
          context_type: 'fact',
          from_agent: 'architect-001',
          to_roles: [],
          data: 'The ledger closes at midnight UTC',
          ttl_minutes: 5,
        },
        { now },
      );
      const sources = async (feature_id?: string, at = now) =>
        (await registry.passages.search({ text: 'ledger', feature_id, k: 10 }, at)).map((p) => p.source).sort();
      assert.deepEqual(await sources('feature-one'), ['artifact:adr-one', 'knowledge:feature-one/fact']);
      assert.deepEqual(await sources('feature-two'), ['artifact:adr-two']);
      assert.equal((await sources()).length, 3);
      const later = new Date(now.getTime() + 10 * 60_000);
      assert.deepEqual(await sources('feature-one', later), ['artifact:adr-one'], 'an expired fact is not found');
      await registry.knowledge.purgeExpired(later);
      await registry.artifacts.remove('adr-one');
      assert.deepEqual(await sources('feature-one', later), [], 'a removed artifact is gone from the index');
    } finally {
      await registry.close();
    }
  });

  it('leaves out words too common to rank by, and keeps their counts through rewrites and removals', async () => {
    const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'common' });
    try {
      // 400 passages say "service request"; one says where the bucket lives.
      for (let i = 0; i < 400; i++)
        await registry.artifacts.put(artifact(`note-${i}`, `The service handles request number ${i}.`, 'f'));
      await registry.artifacts.put(artifact('bucket', 'The service keeps its token bucket in Redis.', 'f'));
      const top = async (text: string) => (await registry.passages.search({ text, k: 1 }))[0]?.source;
      assert.equal(await top('Which service request keeps the token bucket?'), 'artifact:bucket');
      // Rewritten and removed passages give their counts back: both words are rare again, so both are searched.
      for (let i = 0; i < 400; i++)
        if (i === 7) await registry.artifacts.put(artifact('note-7', 'A request for a bucket of paint.', 'f'));
        else await registry.artifacts.remove(`note-${i}`);
      const both = await registry.passages.search({ text: 'service request', k: 5 });
      assert.deepEqual(both.map((p) => p.source).sort(), ['artifact:bucket', 'artifact:note-7']);
    } finally {
      await registry.close();
    }
  });

  it('indexes what many agents write at once, without a write conflict between their counts', async () => {
    const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'concurrent' });
    try {
      // Every passage shares its words: each write updates the same document frequencies.
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          registry.artifacts.put(artifact(`report-${i}`, `The benchmark task number ${i} is done.`, 'f')),
        ),
      );
      assert.equal((await registry.passages.search({ text: 'benchmark task', k: 200 })).length, 100);
    } finally {
      await registry.close();
    }
  });

  it('keeps its index when the store is reopened (surrealkv, another process)', () => {
    const url = `surrealkv://${join(tempDir('rag'), 'db')}`;
    registryProcess(url, 'rag', 'put');
    assert.deepEqual(registryProcess(url, 'rag', 'search', 'kept'), ['knowledge:adr/persisted']);
  });
});

describe('ShareContext messages on the bus (real nats-server with JetStream)', () => {
  const { natsUrl } = testServers();

  it('are stored as shared knowledge and searchable, once, also when shared while the control plane was away', async () => {
    const registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'intake' });
    const log = createLogger('test', { write: () => undefined });
    const bus = await EventBus.connect(natsUrl, { logger: log });
    const stack = unique('intake');
    const share = (key: string | undefined, data: unknown, from_agent = 'outside-agent') =>
      bus.publish({ type: 'ShareContext', key, from_agent, to_roles: [], context_type: 'fact', data, ttl_minutes: 30 });
    const stored = (key: string) => eventually(`knowledge ${key}`, () => registry.knowledge.get(key), 10_000, 50);
    let stop = await takeInSharedContext(bus, registry, log, stack);
    try {
      // Agents outside Vapora share facts on the bus: with a key, and without one (stored under the agent's name).
      await share('feature-bus/cache', { summary: 'The cache is warmed from the nightly snapshot.' });
      await share(undefined, 'The build runner disk is 91% full.', 'monitor-007');
      assert.deepEqual((await stored('feature-bus/cache')).data, {
        summary: 'The cache is warmed from the nightly snapshot.',
      });
      assert.equal((await stored('monitor-007/fact')).data, 'The build runner disk is 91% full.');
      const found = await registry.passages.search({ text: 'how is the cache warmed', feature_id: 'feature-bus' });
      assert.equal(found[0]?.source, 'knowledge:feature-bus/cache');

      // Shared while the control plane is away: the durable consumer kept it.
      stop();
      await share('feature-bus/while-away', 'Shared while the registry was away.');
      stop = await takeInSharedContext(bus, registry, log, stack);
      assert.equal((await stored('feature-bus/while-away')).data, 'Shared while the registry was away.');

      // Stored through the API and broadcast, as Vapora's agents do: stored once (the entry is not rewritten).
      const direct = await registry.knowledge.share({
        key: 'feature-bus/once',
        context_type: 'fact',
        from_agent: 'architect-001',
        to_roles: [],
        data: 'Stored once.',
        ttl_minutes: 30,
      });
      await share('feature-bus/once', 'Stored once.', 'architect-001');
      await share('feature-bus/after', 'Read after the broadcast.');
      await stored('feature-bus/after'); // messages are handled in order
      assert.equal((await registry.knowledge.get('feature-bus/once'))?.created_at, direct.created_at);
    } finally {
      stop();
      await bus.close();
      await registry.close();
    }
  });
});

describe('Vapora as an MCP server (the official MCP client, over stdio and Streamable HTTP)', () => {
  const { temporalAddress, natsUrl } = testServers();
  let registry: RegistryStore;
  let bus: EventBus;
  let temporal: Client;
  let api: Server;
  let port: number;
  const stateDir = tempDir('mcp');

  before(async () => {
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'mcp' });
    bus = await EventBus.connect(natsUrl);
    temporal = new Client({
      connection: await Connection.connect({ address: temporalAddress }),
      dataConverter: testConverter(),
    });
    port = await freePort();
    api = await serveRegistryApi(registry, port, createLogger('test-api', { write: () => undefined }), {
      auth: ApiAuth.of(stateDir),
      mcp: mcpOverHttp({
        registryAs: (token) => new RegistryClient(`http://127.0.0.1:${port}`, token),
        featureStatus: (id) => featureStatus(temporal, id),
        bus,
      }),
    });
    await registry.agents.put(agentMetadata('developer-042'));
    for (const [id, status] of [
      ['ctx-done', 'completed'],
      ['ctx-running', 'running'],
    ] as const)
      await registry.tasks.put(taskRecord(id, status));
    await registry.artifacts.put(
      artifact('adr-shown', '# ADR: Add a /health endpoint\n\nIt answers 200 with the version.', 'f-mcp'),
    );
  });
  after(async () => {
    api.close();
    await temporal.connection.close();
    await bus.close();
    await registry.close();
  });

  const transports = {
    'Streamable HTTP': () =>
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${readOperatorToken(stateDir)}` } },
      }),
    stdio: () =>
      new StdioClientTransport({
        command: process.execPath,
        args: [join(PROJECT_ROOT, 'src/cli/vapora.mjs'), 'mcp'],
        env: {
          ...(process.env as Record<string, string>),
          VAPORA_API_PORT: String(port),
          VAPORA_STATE_DIR: stateDir,
          TEMPORAL_ADDRESS: temporalAddress,
          NATS_URL: natsUrl,
        },
      }),
  };

  for (const [name, transport] of Object.entries(transports)) {
    it(`over ${name}: lists the tools and resources, and each tool answers, bad arguments and unknown ids included`, async () => {
      const client = new McpClient({ name: 'vapora-test', version: '1.0.0' });
      await client.connect(transport());
      try {
        assert.deepEqual(client.getServerVersion(), { name: 'vapora', version: VAPORA_VERSION });
        const tools = (await client.listTools()).tools.map((t) => t.name).sort();
        assert.deepEqual(tools, [
          'feature_status',
          'get_artifact',
          'get_context',
          'list_agents',
          'list_artifacts',
          'request_decision',
          'request_help',
          'search_context',
          'share_knowledge',
        ]);
        const templates = (await client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate).sort();
        assert.deepEqual(templates, ['vapora://agents/{id}', 'vapora://artifacts/{id}', 'vapora://features/{id}']);

        const text = (result: Awaited<ReturnType<typeof client.callTool>>) =>
          (result.content as { text: string }[]).map((c) => c.text).join('');
        const key = `f-mcp/${unique('fact')}`;
        const shared = await client.callTool({
          name: 'share_knowledge',
          arguments: {
            key,
            context_type: 'constraint',
            from: 'a person',
            data: 'The health endpoint needs no authentication',
          },
        });
        assert.ok(!shared.isError, text(shared));
        const found = JSON.parse(
          text(
            await client.callTool({
              name: 'search_context',
              arguments: { query: 'health endpoint authentication', feature: 'f-mcp' },
            }),
          ),
        ) as { source: string }[];
        assert.ok(
          found.some((f) => f.source === `knowledge:${key}`),
          'search_context finds what share_knowledge stored',
        );
        assert.ok(found.some((f) => f.source === 'artifact:adr-shown'));

        const adr = JSON.parse(text(await client.callTool({ name: 'get_artifact', arguments: { id: 'adr-shown' } })));
        assert.match(adr.content, /# ADR: Add a \/health endpoint/);
        const listed = JSON.parse(
          text(await client.callTool({ name: 'list_artifacts', arguments: { feature: 'f-mcp' } })),
        );
        assert.deepEqual(
          listed.map((a: { id: string }) => a.id),
          ['adr-shown'],
        );
        assert.deepEqual(
          JSON.parse(text(await client.callTool({ name: 'list_agents', arguments: { role: 'developer' } }))).map(
            (a: { id: string }) => a.id,
          ),
          ['developer-042'],
        );
        const resource = await client.readResource({ uri: 'vapora://artifacts/adr-shown' });
        assert.match((resource.contents[0] as { text: string }).text, /It answers 200/);

        const unknown = await client.callTool({ name: 'get_artifact', arguments: { id: 'nope' } });
        assert.equal(unknown.isError, true);
        assert.match(text(unknown), /no artifact nope/);
        const bad = await client
          .callTool({ name: 'search_context', arguments: { query: '', k: 0 } })
          .catch((e: Error) => ({
            isError: true,
            content: [{ text: e.message }],
          }));
        assert.equal(bad.isError, true);
        assert.match(text(bad as never), /query/);
        assert.match(text(bad as never), /k/);
        const state = JSON.parse(
          text(await client.callTool({ name: 'get_context', arguments: { agent_id: 'developer-042' } })),
        );
        assert.equal(state.agent.id, 'developer-042');
        assert.deepEqual(
          state.current_tasks.map((t: { id: string }) => t.id),
          ['ctx-running'],
        );
        assert.deepEqual(
          state.recent_tasks.map((t: { id: string }) => t.id),
          ['ctx-done'],
        );
        assert.equal((await client.callTool({ name: 'get_context', arguments: { agent_id: 'nobody' } })).isError, true);
        const noFeature = await client.callTool({ name: 'feature_status', arguments: { feature: 'missing-one' } });
        assert.equal(noFeature.isError, true);
        assert.match(text(noFeature), /no feature feature-missing-one/);
        const noHelp = await client.callTool({
          name: 'request_help',
          arguments: { from: 'a person', roles: ['tester'], context: 'anyone?', wait_secs: 1 },
        });
        assert.equal(noHelp.isError, true);
        assert.match(text(noHelp), /no agent of tester offered help within 1s/);
      } finally {
        await client.close();
      }
    });
  }
});
