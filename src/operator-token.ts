import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the operator's token lives: beside the stack's state, readable by its owner only. */
export const operatorTokenFile = (stateDir: string) => join(stateDir, 'operator-token');

/**
 * The operator's token, which the console's changes (install, scale,
 * approve, …) require: read from the state directory, or made there on first
 * use with mode 0600 (`created` then tells the caller to show it once).
 */
export function ensureOperatorToken(stateDir: string): { token: string; file: string; created: boolean } {
  const file = operatorTokenFile(stateDir);
  const existing = readOperatorToken(stateDir);
  if (existing) return { token: existing, file, created: false };
  mkdirSync(stateDir, { recursive: true });
  const token = `vop_${randomBytes(24).toString('base64url')}`;
  try {
    // 'wx': when two processes start at once, the first one's token wins and the other reads it.
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { token: readOperatorToken(stateDir)!, file, created: false };
  }
}

export function readOperatorToken(stateDir: string): string | undefined {
  try {
    return readFileSync(operatorTokenFile(stateDir), 'utf8').trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Compares in constant time, so the token cannot be guessed a character at a time. */
export function sameToken(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
