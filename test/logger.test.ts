import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../src/logger';

describe('logger', () => {
  it('writes one JSON line per event: level, time, component, pid, fields, message; errors with their stack', () => {
    const lines: string[] = [];
    const log = createLogger('agent', { fields: { agentId: 'developer-001' }, write: (l) => lines.push(l) });
    log.info('agent ready', { port: 4100 });
    log.warn('heartbeat failed', { error: new Error('nats gone') });
    log.debug('not shown at the default level');
    const [ready, failed] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    assert.deepEqual(
      { ...ready, time: undefined },
      {
        level: 'info',
        time: undefined,
        component: 'agent',
        pid: process.pid,
        agentId: 'developer-001',
        port: 4100,
        msg: 'agent ready',
      },
    );
    assert.match(String(ready!.time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(failed!.level, 'warn');
    assert.match(String((failed!.error as { stack: string }).stack), /^Error: nats gone/);
  });

  it('serves as the Temporal SDK logger: its levels map to the same stream', () => {
    const lines: string[] = [];
    const log = createLogger('control-plane', { write: (l) => lines.push(l) });
    log.log('WARN', 'Activity failed', { workflowId: 'task-1', activityType: 'executeTask' });
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((l) => [l.level, l.msg, l.workflowId]),
      [['warn', 'Activity failed', 'task-1']],
    );
  });
});
