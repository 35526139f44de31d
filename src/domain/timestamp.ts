import { z } from 'zod';

/** DateTime<Utc> of the spec: an ISO-8601 string with an offset. */
export const Timestamp = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof Timestamp>;

/** Identifiers become workflow ids, record keys and NATS tokens: keep them to a safe alphabet. */
export const Identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'must start with a letter or digit and use only letters, digits, ".", "_" or "-"',
  );
