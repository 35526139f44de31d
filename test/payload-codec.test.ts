import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED, newCodecKey, parseCodecKeys } from '../src/temporal/payload-codec';
import { tempDir, testServers, unique } from './support/servers';
import { exited, vaporaUntilJson } from './support/cli';
import { freePort } from '../src/host/ports';

const run = promisify(execFile);
/** The part of `temporal workflow show --output json` read here. */
type ShownEvent = { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data?: string }[] } } };
const payload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const encoding = (p: Payload) => new TextDecoder().decode(p.metadata?.encoding);

describe('payload encryption (AES-256-GCM codec)', () => {
  const [k1, k2] = [newCodecKey('k1'), newCodecKey('k2')];

  it('round-trips, reads what older keys wrote after a rotation, passes plain payloads through, and refuses tampering', async () => {
    const before = new AesGcmCodec(parseCodecKeys(k1));
    const rotated = new AesGcmCodec(parseCodecKeys(`${k2},${k1}`));
    const [sealed] = await before.encode([payload({ title: 'Secret plan' })]);
    assert.equal(encoding(sealed!), ENCRYPTED);
    assert.ok(!Buffer.from(sealed!.data!).toString('latin1').includes('Secret plan'));
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([sealed!]))[0]!), {
      title: 'Secret plan',
    });
    // The newest key writes from the rotation on; the old one only reads.
    const [resealed] = await rotated.encode([payload(1)]);
    assert.equal(new TextDecoder().decode(resealed!.metadata?.['encryption-key-id']), 'k2');
    await assert.rejects(before.decode([resealed!]), /encrypted with key "k2", which this process does not have/);

    const plain = payload({ by: 'a person with the temporal CLI' });
    assert.deepEqual(await rotated.decode([plain]), [plain]);
    const tampered = { ...sealed!, data: Buffer.from(sealed!.data!).fill(7, 20, 21) };
    await assert.rejects(rotated.decode([tampered]), /unable to authenticate|auth/i);
    assert.throws(() => parseCodecKeys('k1:short'), /each key is "<id>:<32 bytes in base64>"/);
  });

  describe('in a real history', () => {
    const { temporalAddress, temporalCli } = testServers();
    let connection: Connection;
    after(async () => connection?.close());

    it('keeps a started workflow\'s input encrypted: the temporal CLI without the codec sees only "binary/encrypted"', async () => {
      connection = await Connection.connect({ address: temporalAddress });
      const codec = new AesGcmCodec(parseCodecKeys(k1));
      const client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
      const workflowId = unique('encrypted');
      // A queue no worker polls: the start is in history, and nothing runs.
      const handle = await client.workflow.start('featureWorkflow', {
        taskQueue: unique('nobody'),
        workflowId,
        args: [{ title: 'Acquire Initech quietly', description: 'confidential' }],
      });
      try {
        /** The history as `temporal workflow show` prints it, as JSON. */
        const show = async (...extra: string[]) =>
          (
            await run(temporalCli, [
              ...['workflow', 'show', '--workflow-id', workflowId, '--address', temporalAddress, '--output', 'json'],
              ...extra,
            ])
          ).stdout;
        const shown = await show();
        assert.ok(shown.includes(Buffer.from(ENCRYPTED).toString('base64')), 'the input is marked binary/encrypted');
        assert.ok(!shown.includes('Initech') && !shown.includes(Buffer.from('Initech').toString('base64').slice(0, 8)));
        // `vapora codec-server` shows it decoded, to the temporal CLI as to a Web UI; a wrong token is refused.
        const port = await freePort();
        const server = await vaporaUntilJson<{ endpoint: string }>(
          ['codec-server', '--port', String(port), '--json'],
          { VAPORA_CODEC_KEYS: k1, VAPORA_STATE_DIR: tempDir('codec') },
          30_000,
        );
        try {
          const decoded = await show('--codec-endpoint', server.first.endpoint);
          const [{ events }] = [JSON.parse(decoded) as { events: ShownEvent[] }];
          const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
          assert.deepEqual(JSON.parse(Buffer.from(input?.data ?? '', 'base64').toString()), {
            title: 'Acquire Initech quietly',
            description: 'confidential',
          });
          const forged = await fetch(`http://127.0.0.1:${port}/not-the-token/decode`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ payloads: [] }),
          });
          assert.equal(forged.status, 403);
          const preflight = await fetch(`${server.first.endpoint}/decode`, {
            method: 'OPTIONS',
            headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST' },
          });
          assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://localhost:8233');
        } finally {
          server.child.kill('SIGINT');
          await exited(server.child);
        }
        const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
        const [decoded] = await codec.decode(started!.input!.payloads as Payload[]);
        assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), {
          title: 'Acquire Initech quietly',
          description: 'confidential',
        });
      } finally {
        await handle.terminate('test done');
      }
    });
  });
});
