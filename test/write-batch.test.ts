import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteBatch } from '../src/host/write-batch';

describe('WriteBatch', () => {
  it('writes at once when idle, then carries what came meanwhile in one write', async () => {
    const writes: number[][] = [];
    let begin!: () => void;
    let release!: () => void;
    const begun = new Promise<void>((resolve) => (begin = resolve));
    const first = new Promise<void>((resolve) => (release = resolve));
    const batch = new WriteBatch<number>(async (items) => {
      writes.push(items);
      if (writes.length > 1) return;
      begin();
      await first;
    });
    const done = [batch.add(1)];
    await begun;
    done.push(batch.add(2), batch.add(3));
    assert.deepEqual(writes, [[1]]);
    release();
    await Promise.all(done);
    assert.deepEqual(writes, [[1], [2, 3]]);
  });

  it('begins a write no sooner than everyMs after the one before began, with every item added until then', async () => {
    const begun: { at: number; items: number[] }[] = [];
    const batch = new WriteBatch<number>(async (items) => void begun.push({ at: performance.now(), items }), 300);
    await batch.add(1);
    const later = [batch.add(2)];
    await new Promise((resolve) => setTimeout(resolve, 100));
    later.push(batch.add(3));
    await Promise.all(later);
    assert.deepEqual(
      begun.map((b) => b.items),
      [[1], [2, 3]],
    );
    assert.ok(begun[1]!.at - begun[0]!.at >= 299, `began ${begun[1]!.at - begun[0]!.at} ms after the first`);
  });
});
