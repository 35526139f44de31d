import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newCodecKey } from './temporal/payload-codec';

/** The stack's secrets, each a file in its state directory readable by its owner only (mode 0600). */

/** Where the operator's token lives: beside the stack's state, readable by its owner only. */
export const operatorTokenFile = (stateDir: string) => join(stateDir, 'operator-token');

/**
 * The operator's token, which every change through the API and the console
 * requires: read from the state directory, or made there on first use with
 * mode 0600 (`created` then tells the caller to show it once).
 */
export function ensureOperatorToken(stateDir: string): { token: string; file: string; created: boolean } {
  return ensureStateSecret(operatorTokenFile(stateDir), OPERATOR_TOKEN_PREFIX);
}

/** How an operator token begins, so a client knows whose token it holds (see src/control-plane/api-auth.ts). */
export const OPERATOR_TOKEN_PREFIX = 'vop_';

export function readOperatorToken(stateDir: string): string | undefined {
  return readSecret(operatorTokenFile(stateDir));
}

/** The control plane's key for the tokens it issues to agents (see src/control-plane/api-auth.ts). */
export function ensureAgentTokenKey(stateDir: string): string {
  return ensureStateSecret(join(stateDir, 'agent-token-key'), '').token;
}

/** The keys payloads are encrypted with (see src/temporal/payload-codec.ts), made with one key on first use. */
export const codecKeysFile = (stateDir: string) => join(stateDir, 'codec-keys');
export function ensureCodecKeys(stateDir: string): string {
  return ensureStateSecret(codecKeysFile(stateDir), '', () => newCodecKey('k1')).token;
}
export const readCodecKeys = (stateDir: string) => readSecret(codecKeysFile(stateDir));

/** A secret in `file`, made with mode 0600 if there is none; when two processes start at once, the first one's wins. */
function ensureStateSecret(
  file: string,
  prefix: string,
  make = () => randomBytes(24).toString('base64url'),
): { token: string; file: string; created: boolean } {
  const existing = readSecret(file);
  if (existing) return { token: existing, file, created: false };
  mkdirSync(join(file, '..'), { recursive: true });
  const token = `${prefix}${make()}`;
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { token: readSecret(file)!, file, created: false };
  }
}

function readSecret(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Compares in constant time, so a token cannot be guessed a character at a time. */
export function sameToken(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
