import { randomBytes } from 'node:crypto';

/** A readable, unique id from a title: "Add rate limiting" → add-rate-limiting-3f9a (`fallback` when no letter is left). */
export function readableId(title: string, fallback: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${slug || fallback}-${randomBytes(2).toString('hex')}`;
}
