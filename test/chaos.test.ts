import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../src/host/project';
import type { RunReport } from './chaos/chaos-run';

/** `npm run chaos` as a person runs it, to its end. */
function chaos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/chaos/run.ts', ...args], { cwd: PROJECT_ROOT });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run chaos (a short run: real stack, kill -9 of every kind of process)', () => {
  it('completes every feature with nothing duplicated, stuck or left behind while processes are killed', async () => {
    const run = await chaos(['--features', '3', '--kill-every', '6', '--seed', '7', '--no-baseline', '--json']);
    const report = JSON.parse(run.stdout) as { seed: number; ok: boolean; problems: string[]; chaos: RunReport };
    assert.equal(run.code, 0, `${report.problems.join('\n')}\n${run.stderr}`);
    assert.equal(report.seed, 7);
    assert.deepEqual(report.problems, []);
    const { chaos: r } = report;
    assert.equal(r.completed, 3);
    assert.ok(r.events > 0);
    assert.ok(r.approvalsSent.onTime >= 3, 'every release gate was answered');
    assert.ok(Object.values(r.killed).reduce((n, k) => n + k, 0) > 0, 'something was killed');
    assert.match(run.stderr, /\[chaos\] chaos: kill -9 /);
  });

  it('says what is wrong with its options, naming them, and has --help', async () => {
    const bad = await chaos(['--features', '0', '--soak', 'forever']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /features: Too small/);
    assert.match(bad.stderr, /soak: must be a duration like 90s, 30m or 2h/);
    const help = await chaos(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--kill-every <s>/);
  });
});
