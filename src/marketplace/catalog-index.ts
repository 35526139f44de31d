import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Identifier, SemVer, ValidationError, describeIssues, type AgentManifest } from '../domain';
import { CATALOG_INDEX, manifestFiles, parseManifests } from './manifest-loader';

/**
 * A catalog: an index of manifests with their versions and sha256 digests,
 * optionally signed with Ed25519, served over HTTP(S) or read from a folder,
 * each manifest file beside it. What is signed is the index's name and
 * entries (`signedBytes`), so a manifest cannot change without its digest
 * changing, nor a digest without the signature failing.
 */
export const CatalogIndex = z.object({
  name: Identifier,
  manifests: z.array(
    z.object({
      id: Identifier,
      version: SemVer,
      /** Relative to the index. */
      file: z.string().regex(/^[\w.-]+\.(ya?ml|json)$/, 'must be a .yaml, .yml or .json file name beside the index'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 digest in hex'),
    }),
  ),
  signature: z.object({ alg: z.literal('ed25519'), value: z.base64() }).optional(),
});
export type CatalogIndex = z.infer<typeof CatalogIndex>;

/** The Ed25519 public key the shipped catalog is signed with (raw, base64). */
export const SHIPPED_CATALOG_KEY = 'MLz6Eo1wax2GkDCQTRews40ovSC3OMy2XSnu3EOUH0w=';

const signedBytes = (index: CatalogIndex) =>
  Buffer.from(JSON.stringify({ name: index.name, manifests: index.manifests }));
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
// An Ed25519 SubjectPublicKeyInfo is this prefix and the raw 32-byte key.
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** A public key given as base64 of its 32 raw bytes, or as PEM. */
export function publicKeyOf(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed);
  const raw = Buffer.from(trimmed, 'base64');
  if (raw.length !== 32)
    throw new ValidationError('public key', ['must be an Ed25519 key: 32 bytes in base64, or PEM']);
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
}

/** A public key as `vapora catalog trust` takes it: base64 of its 32 raw bytes. */
export const rawPublicKey = (key: KeyObject) =>
  key.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length).toString('base64');

/**
 * Writes `dir/index.json` for the manifests in `dir`, signed with the PEM
 * private key at `keyFile` when given. Returns the index.
 */
export function buildCatalogIndex(dir: string, name: string, keyFile?: string): CatalogIndex {
  const problems: string[] = [];
  const manifests = manifestFiles(dir).flatMap((file) => {
    const bytes = readFileSync(join(dir, file));
    const found = parseManifests(bytes.toString('utf8'), file, problems);
    if (found.length !== 1) problems.push(`${file}: a catalog holds one manifest per file (found ${found.length})`);
    return found.slice(0, 1).map((m) => ({ id: m.id, version: m.version, file, sha256: sha256(bytes) }));
  });
  if (problems.length) throw new ValidationError('manifests', problems);
  const index: CatalogIndex = { name, manifests };
  if (keyFile) {
    const key = createPrivateKey(readFileSync(keyFile));
    index.signature = { alg: 'ed25519', value: sign(null, signedBytes(index), key).toString('base64') };
  }
  writeFileSync(join(dir, CATALOG_INDEX), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

/** Where a catalog lives: an http(s) URL of its index's folder (or of the index itself), or a folder. */
const locate = (source: string) => {
  if (/^https?:\/\//.test(source)) {
    const base = source.endsWith(CATALOG_INDEX) ? source.slice(0, -CATALOG_INDEX.length) : source.replace(/\/?$/, '/');
    return async (file: string) => {
      const url = new URL(file, base);
      const response = await fetch(url, { signal: AbortSignal.timeout(15_000) }).catch((e: Error) =>
        Promise.reject(new Error(`${url.href}: ${e.message}`, { cause: e })),
      );
      if (!response.ok) throw new Error(`${url.href} answered ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    };
  }
  return async (file: string) => readFileSync(join(source, file));
};

/**
 * The manifests of the catalog at `source`, each checked against its digest;
 * with `trusted`, the index must carry a valid signature by that key.
 * Refuses with every reason, naming the catalog and the file.
 */
export async function readCatalog(
  source: string,
  trusted?: KeyObject,
): Promise<{ index: CatalogIndex; manifests: AgentManifest[] }> {
  const read = locate(source);
  let raw: unknown;
  try {
    raw = JSON.parse((await read(CATALOG_INDEX)).toString('utf8'));
  } catch (error) {
    throw new Error(`catalog ${source}: cannot read its ${CATALOG_INDEX}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = CatalogIndex.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ValidationError(`catalog ${source} index`, describeIssues(parsed.error));
  const index = parsed.data;
  if (trusted) {
    if (!index.signature)
      throw new Error(`catalog ${index.name} (${source}) is not signed, and a key is trusted for it`);
    if (!verify(null, signedBytes(index), trusted, Buffer.from(index.signature.value, 'base64')))
      throw new Error(`catalog ${index.name} (${source}): its signature does not match the trusted key`);
  }
  const problems: string[] = [];
  const manifests: AgentManifest[] = [];
  for (const entry of index.manifests) {
    const bytes = await read(entry.file);
    const digest = sha256(bytes);
    if (digest !== entry.sha256) {
      problems.push(`${entry.file}: sha256 ${digest} differs from the index's ${entry.sha256}`);
      continue;
    }
    const [manifest] = parseManifests(bytes.toString('utf8'), entry.file, problems);
    if (manifest && (manifest.id !== entry.id || manifest.version !== entry.version))
      problems.push(
        `${entry.file}: holds ${manifest.id} ${manifest.version}, the index says ${entry.id} ${entry.version}`,
      );
    else if (manifest) manifests.push(manifest);
  }
  if (problems.length) throw new ValidationError(`catalog ${index.name} (${source})`, problems);
  return { index, manifests };
}
