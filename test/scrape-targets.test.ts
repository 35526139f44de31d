import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryStore } from '../src/registry/registry-store';
import { ScrapeTargets } from '../src/control-plane/scrape-targets';
import { agentInstance, agentMetadata } from './support/fixtures';
import { tempDir } from './support/servers';
import { eventually } from './support/fleet';
import { createLogger } from '../src/logger';

describe("Prometheus's file of agent targets", () => {
  let registry: RegistryStore;
  before(async () => {
    registry = await RegistryStore.open({ url: 'mem://', namespace: 'vapora', database: 'targets' });
  });
  after(() => registry.close());

  it('holds every instance, and calls made while a write waits share it', async () => {
    const targets = new ScrapeTargets(
      registry,
      join(tempDir('targets'), 'agents.json'),
      createLogger('test', { write: () => undefined }),
    );
    const written = () => JSON.parse(readFileSync(targets.file, 'utf8')) as { targets: string[]; labels: object }[];
    const read = registry.agentEndpoints.bind(registry);
    let reads = 0;
    registry.agentEndpoints = () => {
      reads++;
      return read();
    };
    const add = async (n: number) => {
      const id = `developer-${String(n).padStart(3, '0')}`;
      await registry.agents.put(agentMetadata(id));
      await registry.instances.put(agentInstance(id, { port: 4100 + n }));
    };
    for (let n = 1; n <= 50; n++) await add(n);
    await Promise.all(Array.from({ length: 50 }, () => targets.update()));
    assert.equal(reads, 1, 'fifty calls at once, one read of the registry');
    assert.equal(written().length, 50);

    // A change made while a write is under way is in the write that follows it.
    const first = targets.update();
    await add(51);
    await Promise.all([first, targets.update()]);
    assert.deepEqual(written().at(-1), {
      targets: ['127.0.0.1:4151'],
      labels: { agent_id: 'developer-051', role: 'developer' },
    });

    // An instance whose agent is gone (one being removed) is not a target.
    await registry.instances.put(agentInstance('developer-099', { port: 4199 }));
    await targets.update();
    assert.equal(written().length, 51);
    assert.ok(!written().some((t) => t.targets[0] === '127.0.0.1:4199'));
  });

  it('never fails its caller: a rewrite that fails is logged and tried again until one succeeds', async () => {
    const logged: string[] = [];
    const log = createLogger('test', { write: (line) => logged.push(line) });
    const targets = new ScrapeTargets(registry, join(tempDir('targets'), 'agents.json'), log, 100);
    // A directory where the file goes: the rename over it fails.
    mkdirSync(targets.file);
    writeFileSync(join(targets.file, 'in-the-way'), '');
    await targets.update();
    assert.match(logged.join('\n'), /Prometheus's targets file was not rewritten; trying again/);
    assert.match(logged.join('\n'), /agents\.json/);
    rmSync(targets.file, { recursive: true });
    await eventually('the file rewritten by a later try', async () => {
      try {
        return (JSON.parse(readFileSync(targets.file, 'utf8')) as unknown[]).length === 51;
      } catch {
        return false;
      }
    });
  });
});
