import { z } from 'zod';

/**
 * Accepts input written before a field was renamed: the value under `old`
 * moves to `current` (unless that is given too), in the object itself or in
 * its member `within`. Errors then name the current spelling.
 */
export const acceptingOldName = <T extends z.ZodType>(
  schema: T,
  rename: { old: string; current: string; within?: string },
) =>
  z.preprocess((raw) => {
    if (!rename.within) return renamed(raw, rename.old, rename.current);
    if (!isObject(raw) || !(rename.within in raw)) return raw;
    return { ...raw, [rename.within]: renamed(raw[rename.within], rename.old, rename.current) };
  }, schema);

const isObject = (raw: unknown): raw is Record<string, unknown> => typeof raw === 'object' && raw !== null;

function renamed(raw: unknown, old: string, current: string): unknown {
  if (!isObject(raw) || !(old in raw)) return raw;
  const { [old]: value, ...rest } = raw;
  return current in rest ? rest : { ...rest, [current]: value };
}
