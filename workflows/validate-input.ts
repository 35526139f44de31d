import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
// Straight from its file: workflow code evaluates every module it imports, for every workflow run.
import { describeIssues } from '../src/domain/validation';

/** Parses a workflow's input; invalid input fails the workflow at once, non-retryable, naming each bad field. */
export function validateInput<S extends z.ZodType>(schema: S, raw: unknown, workflow: string): z.infer<S> {
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = describeIssues(parsed.error, 'input');
  throw ApplicationFailure.nonRetryable(`invalid ${workflow} input: ${problems.join('; ')}`, 'InvalidInput', ...problems);
}
