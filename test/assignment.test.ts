import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseAgent, successRate, type Candidate } from '../src/control-plane/assignment';

const agent = (agentId: string, over: Partial<Candidate> = {}): Candidate => ({
  agentId,
  role: 'developer',
  capabilities: ['implement-code'],
  capacity: 3,
  reserved: 0,
  load: 0,
  completed: 0,
  failed: 0,
  ...over,
});

describe('assignment', () => {
  it('prefers the least loaded agent of the role', () => {
    const chosen = chooseAgent(
      [agent('d-1', { load: 0.6 }), agent('d-2', { reserved: 1 }), agent('a-1', { role: 'architect' })],
      { role: 'developer', exclude: [] },
    );
    assert.equal(chosen?.agentId, 'd-2');
  });

  it('weighs capability match and past success, and breaks ties by agent id', () => {
    const candidates = [agent('d-2'), agent('d-1'), agent('d-3', { capabilities: ['write-tests'] })];
    assert.equal(
      chooseAgent(candidates, { role: 'developer', capability: 'implement-code', exclude: [] })?.agentId,
      'd-1',
    );
    assert.equal(
      chooseAgent([agent('d-1', { completed: 1, failed: 4 }), agent('d-2', { completed: 5 })], {
        role: 'developer',
        exclude: [],
      })?.agentId,
      'd-2',
    );
    assert.ok(successRate({ completed: 0, failed: 0 }) === 1, 'a new agent is not starved');
  });

  it('never picks a full or excluded agent, and says so when nobody can take the task', () => {
    assert.equal(
      chooseAgent([agent('d-1', { reserved: 3 }), agent('d-2')], { role: 'developer', exclude: ['d-2'] }),
      undefined,
    );
    assert.equal(chooseAgent([], { role: 'tester', exclude: [] }), undefined);
  });
});
