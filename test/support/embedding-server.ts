import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DIMENSION = 256;

/**
 * A deterministic stand-in for an embedding model: each word's character
 * trigrams hashed into DIMENSION buckets, the sum normalized. Texts sharing
 * word pieces lie close, so a misspelt word still lands near its document,
 * which words alone (BM25) cannot find.
 */
export function trigramVector(text: string): number[] {
  const vector = new Array<number>(DIMENSION).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) {
      const bucket =
        createHash('md5')
          .update(padded.slice(i, i + 3))
          .digest()
          .readUInt32LE(0) % DIMENSION;
      vector[bucket]! += 1;
    }
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}

/**
 * A local server speaking OpenAI's embeddings wire format (POST /v1/embeddings):
 * the AI SDK's OpenAI provider talks to it as to OpenAI. While `refusing` is
 * set it refuses every request (400, which the SDK does not retry).
 */
export async function startEmbeddingServer() {
  const seen: { headers: IncomingHttpHeaders; inputs: string[] }[] = [];
  const state = { refusing: false };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as { model?: string; input?: string | string[] };
      const inputs = typeof body.input === 'string' ? [body.input] : (body.input ?? []);
      seen.push({ headers: req.headers, inputs });
      if (req.url !== '/v1/embeddings' || req.method !== 'POST')
        return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      if (state.refusing)
        return res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":{"message":"refused","type":"invalid_request_error"}}');
      const tokens = inputs.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          object: 'list',
          model: body.model,
          data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: trigramVector(text) })),
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
