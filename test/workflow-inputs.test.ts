import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApplicationFailure } from '@temporalio/common';
import { parseWorkflowInput } from '../src/contracts/workflow-inputs';
import { TaskSubmission, type ParsedTaskInput } from '../src/contracts/task-input';
import type { ParsedFeatureInput } from '../src/contracts/feature-input';
import { featureApprovalRequired, taskApprovalRequired } from '../src/contracts/approval-required';

const task = { role: 'developer', title: 'Add a /health endpoint' };

describe('workflow inputs spell every field one way (snake_case)', () => {
  it('takes require_approval, and the camelCase spelling of releases before 0.3', () => {
    assert.equal(parseWorkflowInput('taskWorkflow', { ...task, require_approval: true }).require_approval, true);
    assert.equal(parseWorkflowInput('taskWorkflow', { ...task, requiresApproval: true }).require_approval, true);
    assert.equal(parseWorkflowInput('taskWorkflow', task).require_approval, false);
    const feature = parseWorkflowInput('featureWorkflow', { title: 'x', options: { requireApproval: false } });
    assert.equal(feature.options.require_approval, false);
    assert.equal(parseWorkflowInput('featureWorkflow', { title: 'x' }).options.require_approval, true);
    const submitted = TaskSubmission.parse({ ...task, task_id: 't1', requiresApproval: true });
    assert.equal(submitted.require_approval, true);
    assert.equal('requiresApproval' in submitted, false);
  });

  it('keeps the current spelling when both are given, and names it when its value is wrong', () => {
    const both = { ...task, require_approval: false, requiresApproval: true };
    assert.equal(parseWorkflowInput('taskWorkflow', both).require_approval, false);
    assert.throws(
      () => parseWorkflowInput('featureWorkflow', { title: 'x', options: { requireApproval: 'yes' } }),
      (error: ApplicationFailure) => {
        assert.equal(error.type, 'InvalidInput');
        assert.match(error.message, /options\.require_approval/);
        return true;
      },
    );
  });

  it('reads the parse a run recorded before 0.3, old spelling and all', () => {
    const recordedTask = { requiresApproval: true } as unknown as ParsedTaskInput;
    assert.equal(taskApprovalRequired(recordedTask), true);
    const recordedFeature = { options: { requireApproval: false } } as unknown as ParsedFeatureInput;
    assert.equal(featureApprovalRequired(recordedFeature), false);
    assert.equal(taskApprovalRequired(parseWorkflowInput('taskWorkflow', task)), false);
  });
});
