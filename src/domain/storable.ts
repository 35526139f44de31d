import { z } from 'zod';

/** Nesting deeper than this is refused: SurrealDB refuses 252 levels, and the SDK's encoder recurses. */
const MAX_DEPTH = 64;
/** Problems named per value at most: the first few say what to fix. */
const MAX_PROBLEMS = 5;
/** In a `u` pattern a surrogate pair is one code point, so only a lone surrogate is of category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Refuses, by path, what the registry (SurrealDB through the SDK's CBOR)
 * would not give back as it was sent, or not store at all: a lone surrogate
 * (stored as U+FFFD), a `__proto__` key (lost when read back), an integer
 * beyond ±2^53 (the encoder throws), nesting deeper than MAX_DEPTH.
 */
export function storable(value: unknown, ctx: z.RefinementCtx): void {
  let found = 0;
  const refuse = (path: PropertyKey[], message: string, input?: unknown) => {
    if (found++ < MAX_PROBLEMS) ctx.addIssue({ code: 'custom', path, message, input });
  };
  const visit = (v: unknown, path: PropertyKey[]): void => {
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) refuse(path, 'must be well-formed Unicode (it has a lone surrogate)', v);
    } else if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) > 2 ** 53)
        refuse(path, 'must be within ±2^53 when whole: the registry cannot store it', v);
    } else if (typeof v === 'object' && v !== null) {
      if (path.length >= MAX_DEPTH) return refuse(path, `nests deeper than ${MAX_DEPTH} levels`);
      for (const [key, item] of Object.entries(v)) {
        const at = [...path, Array.isArray(v) ? Number(key) : key];
        if (key === '__proto__') refuse(at, 'cannot be a key: "__proto__" is reserved');
        else if (LONE_SURROGATE.test(key)) refuse(at, 'must be a well-formed Unicode key (it has a lone surrogate)');
        visit(item, at);
      }
    }
  };
  visit(value, []);
}

/** Any JSON value the registry stores and gives back unchanged (see storable). */
export const StorableJson = z.unknown().superRefine(storable);
