import { z } from 'zod';

/**
 * A record keyed by names a client chooses. zod leaves a `__proto__` key out
 * of a record (writing it would set the prototype), so that entry would vanish
 * without a word: it is refused by name instead.
 */
export const namedRecord = <K extends z.core.$ZodRecordKey, V extends z.core.SomeType>(key: K, value: V) => {
  const record = z.record(key, value);
  return z
    .custom<z.input<typeof record>>()
    .superRefine((raw, ctx) => {
      if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__'))
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'cannot be a key: "__proto__" is reserved' });
    })
    .pipe(record);
};
