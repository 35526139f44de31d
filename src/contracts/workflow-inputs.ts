import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { describeIssues } from '../domain/validation';
import { FeatureInput } from './feature-input';
import { TaskInput } from './task-input';

/** The inputs workflows take from any client, by workflow type. */
const WORKFLOW_INPUTS = { taskWorkflow: TaskInput, featureWorkflow: FeatureInput };

export type WorkflowWithInput = keyof typeof WORKFLOW_INPUTS;
export type ParsedWorkflowInput<W extends WorkflowWithInput> = z.infer<(typeof WORKFLOW_INPUTS)[W]>;

/** Parses a workflow's input; invalid input is a non-retryable failure naming each bad field. */
export function parseWorkflowInput<W extends WorkflowWithInput>(workflow: W, raw: unknown): ParsedWorkflowInput<W> {
  const parsed = WORKFLOW_INPUTS[workflow].safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data as ParsedWorkflowInput<W>;
  const problems = describeIssues(parsed.error, 'input');
  throw ApplicationFailure.nonRetryable(
    `invalid ${workflow} input: ${problems.join('; ')}`,
    'InvalidInput',
    ...problems,
  );
}
