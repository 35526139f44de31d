import type { PayloadCodec } from '@temporalio/common';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { describeIssues } from '../domain';
import { sameToken } from '../state-secrets';

/** A payload as the Web UI sends it: proto3 JSON, bytes in base64. */
const Payloads = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string().base64()).default({}),
      data: z.string().base64().default(''),
    }),
  ),
});
type Payloads = z.infer<typeof Payloads>;

const fromJson = ({ payloads }: Payloads) =>
  payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  }));
const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');

/** A local Web UI's origins: `vapora up` prints 127.0.0.1, people type localhost, and CORS tells them apart. */
export const webUiOrigins = (uiPort: number): string[] => [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`];

/**
 * Temporal's remote codec protocol (`POST …/encode`, `POST …/decode`), so the
 * Web UI and `temporal workflow show --codec-endpoint` show what the codec
 * hides from history. The endpoint's path holds its token (`/<token>/decode`):
 * the Web UI sends no credentials of its own, so the URL it is given is the
 * capability. Browsers may call it from the UI's origins only.
 */
export function codecServer(codec: PayloadCodec, { token, origins }: { token: string; origins: string[] }): Hono {
  const app = new Hono();
  app.use(
    '*',
    cors({ origin: origins, allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['content-type', 'x-namespace'] }),
  );
  app.post('/:token/:op{encode|decode}', async (c) => {
    if (!sameToken(c.req.param('token'), token)) return c.json({ error: 'not a codec endpoint of this stack' }, 403);
    const parsed = Payloads.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: `invalid payloads: ${describeIssues(parsed.error).join('; ')}` }, 400);
    const payloads = fromJson(parsed.data);
    const done = c.req.param('op') === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    return c.json({
      payloads: done.map((p) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
        data: b64(p.data),
      })),
    });
  });
  return app;
}
