import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './support/worker';

/**
 * Histories recorded by each release (`npm run record-histories`): 0.1 has a
 * task dispatcher, two dispatched tasks (one approved by signal), a feature
 * through its approval and two of its steps, and a feature still waiting at
 * its gate; 0.2 the same kinds, approved by Update and by signal; 0.3 the
 * same, with each task's LLM and tool calls as activities of their own, and
 * an agent pool scaled 3 → 2 with its instances' lifecycles, one restarted;
 * 0.4 the same kinds with signed approvals, role queues and wake-ups, and a
 * pool rolled to a new version (the last release whose dispatcher started
 * tasks as children and whose tasks raced a deadline timer); 0.5 the same
 * kinds from the code of patch level 3 (`5b2915e`: tasks dispatched by a local
 * activity, waits timed by their asks, approval gates taking Updates from the
 * workflow task after they open, measured by history length); 0.6 the same
 * kinds from the code of patch level 4 (`5c9c9e8`: approvals taken after the
 * gate's 1 ms timer, waits that always start their timer); 0.7 to 0.10 the
 * same kinds from each release's code (0.9: `621dda0`, patch level 6, deploys
 * that tell their pool, which still signals each lifecycle to stop; 0.10:
 * `3eada90`, patch level 7, the pool starting all missing instances at once).
 */
const RELEASES = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '0.10'];

describe('workflow replay', () => {
  for (const release of RELEASES) {
    it(`replays runs begun by Vapora ${release} with this code, as a restarted worker does with every open run`, async () => {
      const file = new URL(`./fixtures/histories-${release}.json.gz`, import.meta.url);
      const stored: Record<string, string> = JSON.parse(gunzipSync(readFileSync(file)).toString());
      const histories = Object.entries(stored).map(([workflowId, encoded]) => ({
        workflowId,
        history: proto.temporal.api.history.v1.History.decode(Buffer.from(encoded, 'base64')),
      }));
      const replayed: string[] = [];
      const failed: string[] = [];
      for await (const { workflowId, error } of Worker.runReplayHistories(
        { workflowBundle: await workflowBundle(), replayName: `vapora-${release}` },
        histories,
      )) {
        replayed.push(workflowId);
        if (error) failed.push(`${workflowId}: ${error.message}`);
      }
      assert.deepEqual(failed, []);
      assert.deepEqual(replayed.sort(), Object.keys(stored).sort());
    });
  }
});
