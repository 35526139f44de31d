import type { z } from 'zod';

/** Invalid input, described for a person: one line per problem, each naming the field and the rule. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly subject: string,
    readonly problems: string[],
  ) {
    super(`invalid ${subject}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const SECRET_FIELD = /pass|secret|token|key/i;
/** A URL with credentials in it (`scheme://user:password@host`). */
const CREDENTIALS_IN_URL = /:\/\/[^/\s]*@/;

/** One line per issue; `root` names the value itself when the issue is not about one of its fields. */
export function describeIssues(error: { issues: readonly z.core.$ZodIssue[] }, root = '(root)'): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : root;
    return `${path}: ${issue.message}${shown(path, issue.input)}`;
  });
}

// The offending value helps a person fix it, unless it is long, structured or may be a secret.
function shown(path: string, input: unknown): string {
  if (SECRET_FIELD.test(path)) return '';
  // Not JSON for the rest: it writes NaN and ±Infinity as null, and cannot write a bigint or a symbol.
  const text =
    typeof input === 'string'
      ? JSON.stringify(input)
      : typeof input === 'number' || typeof input === 'boolean' || typeof input === 'symbol'
        ? String(input)
        : typeof input === 'bigint'
          ? `${input}n`
          : undefined;
  return text !== undefined && text.length <= 60 && !CREDENTIALS_IN_URL.test(text) ? ` (got ${text})` : '';
}

/** Parses `value` with `schema`, or throws a ValidationError naming every bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, subject: string): z.infer<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new ValidationError(subject, describeIssues(result.error, subject));
  return result.data;
}
