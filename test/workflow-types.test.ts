import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  WORKFLOW_TYPES,
  type AgentPoolWorkflow,
  type FeatureWorkflow,
  type StackCheckWorkflow,
  type TaskDispatcherWorkflow,
} from '../src/contracts/workflow-types';
import * as workflows from '../workflows';

// Clients start these by name with the signatures in src/contracts: the functions the worker registers must fit them.
const signatures: [FeatureWorkflow, AgentPoolWorkflow, TaskDispatcherWorkflow, StackCheckWorkflow] = [
  workflows.featureWorkflow,
  workflows.agentPoolWorkflow,
  workflows.taskDispatcherWorkflow,
  workflows.stackCheckWorkflow,
];

describe('workflow types', () => {
  it('names every workflow clients start as the worker registers it', () => {
    assert.deepEqual(
      signatures.map((f) => f.name),
      [...WORKFLOW_TYPES],
    );
    for (const name of WORKFLOW_TYPES) assert.equal(typeof workflows[name], 'function', name);
  });
});
