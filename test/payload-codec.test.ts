import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED, newCodecKey, parseCodecKeys } from '../src/temporal/payload-codec';
import { tempDir, testServers, unique } from './support/servers';
import { exited, vaporaUntilJson } from './support/cli';
import { answersOk, freePort } from '../src/host/ports';
import { waitFor } from '../src/host/retry';
import { startTemporalDevServer } from '../src/stack/temporal-dev-server';
import type { SupervisedProcess } from '../src/stack/supervised-process';
import { openBrowser } from './support/browser';

const run = promisify(execFile);
/** The part of `temporal workflow show --output json` read here. */
type ShownEvent = { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data?: string }[] } } };
const payload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const encoding = (p: Payload) => new TextDecoder().decode(p.metadata?.encoding);
/** A feature's input no history may show in the clear. */
const confidential = { title: 'Acquire Initech quietly', description: 'confidential' };
/** How an encrypted payload's encoding reads in JSON (bytes in base64). */
const encryptedMark = Buffer.from(ENCRYPTED).toString('base64');

describe('payload encryption (AES-256-GCM codec)', () => {
  const [k1, k2] = [newCodecKey('k1'), newCodecKey('k2')];
  /** A feature whose input is encrypted with k1, on a queue no worker polls: the start is in history, and nothing runs. */
  const startEncrypted = (connection: Connection) =>
    new Client({ connection, dataConverter: { payloadCodecs: [new AesGcmCodec(parseCodecKeys(k1))] } }).workflow.start(
      'featureWorkflow',
      { taskQueue: unique('nobody'), workflowId: unique('encrypted'), args: [confidential] },
    );

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
      const handle = await startEncrypted(connection);
      const { workflowId } = handle;
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
        assert.ok(shown.includes(encryptedMark), 'the input is marked binary/encrypted');
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
          assert.deepEqual(JSON.parse(Buffer.from(input?.data ?? '', 'base64').toString()), confidential);
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
        const [decoded] = await new AesGcmCodec(parseCodecKeys(k1)).decode(started!.input!.payloads as Payload[]);
        assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), confidential);
      } finally {
        await handle.terminate('test done');
      }
    });
  });

  describe('in the Temporal Web UI (Chromium)', () => {
    const { temporalCli } = testServers();
    const logs = tempDir('codec-web-ui');
    const servers: SupervisedProcess[] = [];
    const connections: Connection[] = [];
    let codecServer: Awaited<ReturnType<typeof vaporaUntilJson<{ endpoint: string }>>> | undefined;
    let browser: Browser | undefined;
    after(async () => {
      await browser?.close();
      await Promise.all(connections.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.stop()));
      if (codecServer) {
        codecServer.child.kill('SIGINT');
        await exited(codecServer.child);
      }
    });

    /** A dev server with its Web UI (decoding through `codecEndpoint` if given) holding an encrypted feature: its page there. */
    async function featurePage(name: string, uiPort: number, codecEndpoint?: string): Promise<string> {
      const port = await freePort();
      const logFile = join(logs, `${name}.log`);
      const opts = { cli: temporalCli, host: '127.0.0.1', port, uiPort, namespace: 'default', logFile, codecEndpoint };
      servers.push(await startTemporalDevServer(opts));
      const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      connections.push(connection);
      const { workflowId, firstExecutionRunId } = await startEncrypted(connection);
      // The UI is the address `vapora up` prints; it may answer a moment after the frontend.
      const ui = `http://127.0.0.1:${uiPort}`;
      await waitFor(`the Web UI at ${ui}`, () => answersOk(ui), { timeoutMs: 30_000 });
      return `${ui}/namespaces/default/workflows/${workflowId}/${firstExecutionRunId}/history`;
    }

    /** The text of the page's Input box once it shows `awaited`, and of the whole page. */
    async function inputOn(url: string, awaited: string): Promise<{ input: string; page: string }> {
      const page = await browser!.newPage();
      try {
        await page.goto(url);
        const input = page
          .getByTestId('input-and-result')
          .locator(':scope > div')
          .filter({ has: page.getByRole('heading', { name: 'Input', exact: true }) });
        await input.getByText(awaited).waitFor({ timeout: 30_000 });
        return { input: await input.innerText(), page: await page.locator('body').innerText() };
      } finally {
        await page.close();
      }
    }

    it("shows a feature's input decoded through `vapora codec-server`, and only encrypted without it", async () => {
      const [decodingUi, plainUi] = [await freePort(), await freePort()];
      // No --origin: by default it answers the UI at 127.0.0.1, where `vapora up` sends people, as at localhost.
      codecServer = await vaporaUntilJson<{ endpoint: string }>(
        ['codec-server', '--port', String(await freePort()), '--json'],
        { VAPORA_CODEC_KEYS: k1, VAPORA_STATE_DIR: tempDir('codec'), TEMPORAL_UI_PORT: String(decodingUi) },
        30_000,
      );
      const [decoding, plain] = await Promise.all([
        featurePage('decoding', decodingUi, codecServer.first.endpoint),
        featurePage('plain', plainUi),
      ]);
      browser = await openBrowser();

      const decoded = await inputOn(decoding, confidential.title);
      assert.match(decoded.input, /"title": "Acquire Initech quietly",\s*"description": "confidential"/);
      assert.ok(!decoded.input.includes(encryptedMark), decoded.input);

      const encrypted = await inputOn(plain, encryptedMark);
      assert.ok(!encrypted.page.includes('Initech'), encrypted.input);
    });
  });
});
