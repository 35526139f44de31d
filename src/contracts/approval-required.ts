import type { ParsedFeatureInput } from './feature-input';
import type { ParsedTaskInput } from './task-input';

// Workflows read these, without loading zod. Runs parsed before 0.3 replay the parse their
// history recorded (see workflows/validate-input.ts), with the field's old camelCase spelling.

/** Whether a person approves the task's result before it completes. */
export const taskApprovalRequired = (input: ParsedTaskInput): boolean =>
  input.require_approval ?? (input as { requiresApproval?: boolean }).requiresApproval ?? false;

/** Whether a person approves the feature before it is released. */
export const featureApprovalRequired = ({ options }: ParsedFeatureInput): boolean =>
  options.require_approval ?? (options as { requireApproval?: boolean }).requireApproval ?? true;
