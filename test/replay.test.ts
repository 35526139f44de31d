import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './support/worker';

/**
 * Histories recorded by Vapora 0.1: a task dispatcher, two dispatched tasks
 * (one approved by signal), a feature through its approval and two of its
 * steps, and a feature still waiting at its gate.
 */
const RECORDED = new URL('./fixtures/histories-0.1.json.gz', import.meta.url);

describe('workflow replay', () => {
  it('replays runs begun by Vapora 0.1 with this code, as a restarted worker does with every open run', async () => {
    const stored: Record<string, string> = JSON.parse(gunzipSync(readFileSync(RECORDED)).toString());
    const histories = Object.entries(stored).map(([workflowId, encoded]) => ({
      workflowId,
      history: proto.temporal.api.history.v1.History.decode(Buffer.from(encoded, 'base64')),
    }));
    const replayed: string[] = [];
    const failed: string[] = [];
    for await (const { workflowId, error } of Worker.runReplayHistories(
      { workflowBundle: await workflowBundle(), replayName: 'vapora-0.1' },
      histories,
    )) {
      replayed.push(workflowId);
      if (error) failed.push(`${workflowId}: ${error.message}`);
    }
    assert.deepEqual(failed, []);
    assert.deepEqual(replayed.sort(), Object.keys(stored).sort());
  });
});
