import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { ValidationError } from '../src/domain';
import { RegistryStore } from '../src/registry/registry-store';
import { agentInstance, agentMetadata as agent, developerManifest } from './support/fixtures';
import { registryProcess } from './support/registry-process-client';
import { tempDir } from './support/servers';

const options = (url: string) => ({ url, namespace: 'vapora', database: 'test' });

describe('registry store (embedded SurrealDB)', () => {
  let registry: RegistryStore;
  before(async () => {
    registry = await RegistryStore.open(options('mem://'));
  });
  after(() => registry.close());

  it('stores, reads, lists, updates and removes manifests', async () => {
    await registry.manifests.put(developerManifest());
    await registry.manifests.put(
      developerManifest({
        id: 'architect',
        role: 'architect',
        dependencies: [],
        docker_image: 'vapora/agents:architect-0.1.0',
      }),
    );
    assert.equal((await registry.manifests.get('developer'))?.docker_image, 'vapora/agents:developer-0.1.0');
    assert.deepEqual(
      (await registry.manifests.list()).map((m) => m.id),
      ['architect', 'developer'],
    );
    assert.deepEqual(
      (await registry.manifests.list({ role: 'architect' })).map((m) => m.id),
      ['architect'],
    );
    const updated = await registry.manifests.update('developer', (m) => ({ ...m, version: '0.2.0' }));
    assert.equal(updated?.version, '0.2.0');
    assert.equal(await registry.manifests.update('nobody', (m) => m), undefined);
    assert.equal((await registry.manifests.get('developer'))?.version, '0.2.0');
    assert.equal(await registry.manifests.remove('developer'), true);
    assert.equal(await registry.manifests.remove('developer'), false);
    assert.equal(await registry.manifests.get('developer'), undefined);
  });

  it('refuses an invalid record with the field named, and keeps what was stored', async () => {
    await registry.agents.put(agent('developer-001'));
    await assert.rejects(
      registry.agents.update('developer-001', (a) => ({ ...a, uptime_percentage: -3 })),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.match(e.message, /uptime_percentage/);
        return true;
      },
    );
    assert.equal((await registry.agents.get('developer-001'))?.uptime_percentage, 100);
  });

  it('never brings back a record removed while an update of it was under way', async () => {
    await registry.agents.put(agent('developer-002'));
    let removed: Promise<boolean> | undefined;
    const updated = await registry.agents.update('developer-002', (a) => {
      removed = registry.agents.remove('developer-002'); // as an uninstall does while a health check records
      return { ...a, current_tasks: 1 };
    });
    assert.equal(updated?.current_tasks, 1);
    assert.equal(await removed, true);
    assert.equal(await registry.agents.get('developer-002'), undefined);
    assert.equal(await registry.agents.update('developer-002', (a) => a), undefined);
    assert.equal(await registry.agents.get('developer-002'), undefined);
  });

  it('filters agents by indexed columns, including the status label of an Error', async () => {
    await registry.agents.put(agent('developer-002', { status: { Error: 'health check failed 3 times' } }));
    await registry.agents.put(agent('tester-001', { role: 'tester', manifest_id: 'tester' }));
    assert.deepEqual(
      (await registry.agents.list({ role: 'developer' })).map((a) => a.id),
      ['developer-001', 'developer-002'],
    );
    const failed = await registry.agents.list({ status: 'Error' });
    assert.deepEqual(
      failed.map((a) => a.id),
      ['developer-002'],
    );
    assert.deepEqual(failed[0]!.status, { Error: 'health check failed 3 times' });
    assert.equal(await registry.agents.count({ role: 'developer' }), 2);
    assert.equal(await registry.agents.some({ manifest_id: 'tester' }), true);
    assert.equal(await registry.agents.some({ manifest_id: 'tester', role: 'developer' }), false);
    assert.equal(await registry.agents.some({ manifest_id: 'nobody' }), false);
    assert.equal((await registry.agents.anyOf({ manifest_id: 'tester' }))?.id, 'tester-001');
    assert.equal(await registry.agents.anyOf({ manifest_id: 'nobody' }), undefined);
  });

  it('sets some fields of many records in one write, keeping the rest and never bringing back a removed one', async () => {
    await registry.agents.put(agent('checked-001', { current_tasks: 1, queue_depth: 3 }));
    await registry.agents.put(agent('checked-002'));
    await registry.agents.setFields([
      { key: 'checked-001', fields: { current_tasks: 2, last_health_check: '2026-12-03T10:00:00.000Z' } },
      { key: 'checked-002', fields: { uptime_percentage: 50 } },
      { key: 'checked-gone', fields: { uptime_percentage: 50 } },
    ]);
    const one = await registry.agents.get('checked-001');
    assert.equal(one?.current_tasks, 2);
    assert.equal(one?.last_health_check, '2026-12-03T10:00:00.000Z');
    assert.equal(one?.queue_depth, 3, 'fields not set stay as stored');
    assert.equal((await registry.agents.get('checked-002'))?.uptime_percentage, 50);
    assert.equal(await registry.agents.get('checked-gone'), undefined);
    await assert.rejects(
      registry.agents.setFields([{ key: 'checked-001', fields: { uptime_percentage: 250 } }]),
      /uptime_percentage/,
    );
    assert.equal((await registry.agents.get('checked-002'))?.uptime_percentage, 50);
  });

  it('writes and reads many records in one query each, in order, with what each derives', async () => {
    const artifact = (id: string, kind: string, content: string) => ({
      id,
      kind,
      title: id,
      content,
      created_at: '2026-12-04T10:00:00.000Z',
    });
    const queries = registry.queries;
    const stored = await registry.artifacts.putMany([
      artifact('many-1', 'conversation', 'first'),
      artifact('many-2', 'report', 'The quarterly zeppelin report.'),
      artifact('many-1', 'conversation', 'second'),
    ]);
    assert.deepEqual(
      stored.map((a) => a.content),
      ['first', 'The quarterly zeppelin report.', 'second'],
    );
    // The three records in one query, and the report's passages (a conversation is not searchable) in another.
    assert.equal(registry.queries - queries, 2);
    const read = await registry.artifacts.getMany(['many-2', 'many-none', 'many-1']);
    assert.equal(registry.queries - queries, 3);
    assert.deepEqual(
      read.map((a) => a?.content),
      ['The quarterly zeppelin report.', undefined, 'second'],
      'in the order asked, undefined where there is none, the last write of a key kept',
    );
    assert.deepEqual(
      (await registry.passages.search({ text: 'zeppelin' })).map((p) => p.source),
      ['artifact:many-2'],
    );
    await assert.rejects(registry.artifacts.putMany([artifact('many-3', '', 'x')]), /kind/);
    assert.equal(await registry.artifacts.get('many-3'), undefined);
    assert.deepEqual(await registry.artifacts.getMany([]), []);
  });

  it('indexes knowledge that restates an artifact stored with it through that artifact alone', async () => {
    const [report] = await registry.artifacts.putMany([
      {
        id: 'restated-1',
        kind: 'report',
        title: 'Report',
        content: 'The walrus   migration\nfinished at dawn.\n\nEvery shard moved.',
        created_at: '2026-12-04T10:00:00.000Z',
      },
    ]);
    const fact = (key: string, summary: string) => ({
      key,
      context_type: 'report',
      from_agent: 'tester-001',
      to_roles: [],
      data: { summary, artifact: 'restated-1' },
      ttl_minutes: 5,
    });
    const found = async () => (await registry.passages.search({ text: 'walrus', k: 10 })).map((p) => p.source).sort();
    // Its words, whitespace aside: found once, through the artifact (and the entry is kept, to read).
    await registry.knowledge.share(fact('restated/one', 'The walrus migration finished at dawn.'), {
      storedWith: [report!],
    });
    assert.deepEqual(await found(), ['artifact:restated-1']);
    assert.equal((await registry.knowledge.get('restated/one'))?.from_agent, 'tester-001');
    // Words of its own, or the artifact not stored with it: indexed as before.
    await registry.knowledge.share(fact('restated/two', 'The walrus migration needs a rerun.'), {
      storedWith: [report!],
    });
    await registry.knowledge.share(fact('restated/three', 'The walrus migration finished at dawn.'));
    assert.deepEqual(await found(), ['artifact:restated-1', 'knowledge:restated/three', 'knowledge:restated/two']);
    // Shared again restating the artifact, under a key that had passages: those go.
    await registry.knowledge.share(fact('restated/two', 'Every shard moved.'), { storedWith: [report!] });
    assert.deepEqual(await found(), ['artifact:restated-1', 'knowledge:restated/three']);
    assert.equal(await registry.knowledge.remove('restated/three'), true);
    assert.deepEqual(await found(), ['artifact:restated-1']);
  });

  it('knows what it shared last without a query, until the entry is removed or expires', async () => {
    const shared = await registry.knowledge.share({
      key: 'told/one',
      context_type: 'report',
      from_agent: 'tester-001',
      to_roles: [],
      data: 'The walrus sleeps.',
      ttl_minutes: 1,
    });
    const queries = registry.queries;
    assert.deepEqual(await registry.knowledge.lastShared('told/one'), shared);
    assert.equal(registry.queries, queries, 'it asked SurrealDB');
    // Past its TTL, or removed: asked of SurrealDB, which has none.
    assert.equal(await registry.knowledge.lastShared('told/one', new Date(Date.now() + 120_000)), undefined);
    assert.equal(registry.queries, queries + 1);
    await registry.knowledge.remove('told/one');
    assert.equal(await registry.knowledge.lastShared('told/one'), undefined);
  });

  it('treats keys and filter values as data, never as SurrealQL', async () => {
    const hostile = "x'); DELETE agent; --";
    assert.equal(await registry.agents.get(hostile), undefined);
    assert.deepEqual(await registry.agents.getMany([hostile]), [undefined]);
    assert.deepEqual(await registry.agents.list({ role: hostile as never }), []);
    assert.equal(await registry.agents.remove(hostile), false);
    assert.ok((await registry.agents.list()).length >= 3);
  });

  it('keeps instances, tasks and decisions', async () => {
    const now = new Date().toISOString();
    await registry.instances.put(agentInstance('developer-001', { start_time: now, last_heartbeat: now }));
    await registry.tasks.put({
      id: 'task-1',
      feature_id: 'feature-1',
      role: 'developer',
      title: 'Write it',
      status: 'assigned',
      agent_id: 'developer-001',
      priority: 'high',
      retry_count: 0,
      created_at: now,
      updated_at: now,
    });
    await registry.tasks.put({
      id: 'task-2',
      role: 'tester',
      title: 'Test it',
      status: 'pending',
      priority: 'normal',
      retry_count: 0,
      created_at: now,
      updated_at: now,
    });
    await registry.decisions.put({
      id: 'decision-1',
      decision_type: 'escalation',
      context: 'deadline missed',
      options: ['retry', 'abort'],
      decision: 'retry',
      reasoning: 'transient',
      made_by: 'decision-maker-001',
      task_id: 'task-1',
      created_at: now,
    });
    assert.equal((await registry.instances.get('developer-001'))?.pod_id, 'pid-4242');
    assert.deepEqual(
      (await registry.tasks.list({ feature_id: 'feature-1' })).map((t) => t.id),
      ['task-1'],
    );
    assert.deepEqual(
      (await registry.tasks.list({ status: 'pending' })).map((t) => t.id),
      ['task-2'],
    );
    assert.equal((await registry.decisions.list({ task_id: 'task-1' }))[0]?.decision, 'retry');
  });

  it('adds a record only under a free key, keeping the one already there (a task recorded running after it ended)', async () => {
    const now = new Date().toISOString();
    const task = { id: 'task-added', role: 'developer', title: 'Add it', priority: 'normal', retry_count: 0 } as const;
    const ended = { ...task, status: 'completed', created_at: now, updated_at: now } as const;
    assert.equal((await registry.tasks.add({ ...ended, status: 'running' }))?.status, 'running');
    await registry.tasks.put(ended);
    assert.equal(await registry.tasks.add({ ...ended, status: 'running' }), undefined);
    assert.equal((await registry.tasks.get('task-added'))?.status, 'completed');
  });

  it('hides and purges shared knowledge after its TTL', async () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    await registry.knowledge.share(
      {
        key: 'adr/login',
        context_type: 'decision',
        from_agent: 'architect-001',
        to_roles: ['developer'],
        data: { use: 'token bucket' },
        ttl_minutes: 10,
      },
      { now: t0 },
    );
    await registry.knowledge.share(
      {
        key: 'note/all',
        context_type: 'analysis',
        from_agent: 'monitor-001',
        to_roles: [],
        data: 'p99 ok',
        ttl_minutes: 60,
      },
      { now: t0 },
    );
    const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
    assert.deepEqual((await registry.knowledge.get('adr/login', at(5)))?.data, { use: 'token bucket' });
    assert.deepEqual(
      (await registry.knowledge.list({ role: 'developer' }, at(5))).map((k) => k.key),
      ['adr/login', 'note/all'],
    );
    assert.deepEqual(
      (await registry.knowledge.list({ role: 'tester' }, at(5))).map((k) => k.key),
      ['note/all'],
    );
    assert.deepEqual(
      (await registry.knowledge.list({ scope: 'adr' }, at(5))).map((k) => k.key),
      ['adr/login'],
    );
    assert.equal(await registry.knowledge.get('adr/login', at(11)), undefined);
    assert.deepEqual(
      (await registry.knowledge.list({}, at(11))).map((k) => k.key),
      ['note/all'],
    );
    await registry.knowledge.purgeExpired(at(61));
    assert.equal(await registry.knowledge.get('note/all', t0), undefined, 'purged entries are gone, not just hidden');
  });
});

describe('registry store persistence (surrealkv)', () => {
  it('keeps every record across a process restart', () => {
    const url = `surrealkv://${join(tempDir('registry'), 'db')}`;
    registryProcess(url, 'test', 'put');
    assert.deepEqual(registryProcess(url, 'test', 'get'), { manifest: 'Developer Agent', knowledge: { kept: true } });
  });
});

describe('registry store under concurrent writes (surrealkv)', () => {
  it('keeps every write when many share knowledge at once while expired entries are purged', async () => {
    const registry = await RegistryStore.open({
      url: `surrealkv://${join(tempDir('burst'), 'registry')}`,
      namespace: 'vapora',
      database: 'burst',
    });
    const now = new Date('2029-01-01T00:00:00Z');
    const earlier = new Date(now.getTime() - 3_600_000);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        registry.knowledge.share(
          { key: `old/${i}`, context_type: 'review', from_agent: 'a', to_roles: [], data: i, ttl_minutes: 1 },
          { now: earlier },
        ),
      ),
    );
    const writes = Array.from({ length: 200 }, (_, i) =>
      registry.knowledge.share(
        { key: `burst/${i}`, context_type: 'review', from_agent: `agent-${i}`, to_roles: [], data: i, ttl_minutes: 5 },
        { now },
      ),
    );
    await Promise.all([...writes, ...Array.from({ length: 10 }, () => registry.knowledge.purgeExpired(now))]);
    assert.equal((await registry.knowledge.list({ scope: 'burst' }, now)).length, 200);
  });
});
