import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { Payload: PayloadProto } = proto.temporal.api.common.v1;

/** How an encrypted payload says so, as Temporal's samples and the Web UI expect. */
export const ENCRYPTED = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : undefined);

export interface CodecKey {
  id: string;
  key: Buffer;
}

/**
 * Encrypts every payload with AES-256-GCM before it leaves the process, so
 * titles, descriptions and artifacts' summaries are not in Temporal's history
 * as plain text. The first key encrypts; every key decrypts (its id is in the
 * payload's metadata), so keys rotate without losing old histories. A payload
 * that is not encrypted passes through: what a person sends with the
 * `temporal` CLI is still read, and recorded encrypted from then on.
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: CodecKey[]) {
    if (!keys.length) throw new Error('a payload codec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  // Async although nothing is awaited: a payload that cannot be read is a rejected promise, as the SDK expects.
  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0]!;
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = PayloadProto.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: text(ENCRYPTED), [KEY_ID]: text(id) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (str(payload.metadata?.encoding) !== ENCRYPTED) return payload;
      const id = str(payload.metadata?.[KEY_ID]) ?? '';
      const key = this.byId.get(id);
      if (!key) throw new Error(`a payload is encrypted with key "${id}", which this process does not have`);
      const sealed = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(-16));
      const plain = Buffer.concat([decipher.update(sealed.subarray(12, -16)), decipher.final()]);
      return PayloadProto.decode(plain);
    });
  }
}

/** Keys as `VAPORA_CODEC_KEYS` and the state directory's `codec-keys` hold them: `id:base64,…`, the newest first. */
export function parseCodecKeys(spec: string): CodecKey[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, b64] = entry.split(':');
      const key = Buffer.from(b64 ?? '', 'base64');
      if (!id || key.length !== 32)
        throw new Error(`VAPORA_CODEC_KEYS: each key is "<id>:<32 bytes in base64>" (got one named "${id ?? ''}")`);
      return { id, key };
    });
}

export const newCodecKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

/** What clients and workers convert payloads with: the codec when keys are configured. */
export function dataConverter(codecKeys: string | undefined): DataConverter | undefined {
  return codecKeys ? { payloadCodecs: [new AesGcmCodec(parseCodecKeys(codecKeys))] } : undefined;
}
