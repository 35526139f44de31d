import { z } from 'zod';

/** DateTime<Utc> of the spec: an ISO-8601 string with an offset. */
export const Timestamp = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof Timestamp>;

/**
 * Identifiers become workflow ids, record keys and the last tokens of NATS
 * subjects: keep them to a safe alphabet, with no empty token (`a..b`, `a.`),
 * for nats-server drops a message sent to such a subject without a word.
 */
export const Identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/,
    'must start with a letter or digit and use only letters, digits, ".", "_" or "-", with no ".." and no "." at the end',
  );
