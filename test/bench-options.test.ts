import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../src/host/project';

/** `npm run bench -- <args>`, for what it answers before it starts any server. */
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/run.ts', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('npm run bench: its options', () => {
  it('prints its usage for --help, and starts nothing', () => {
    const run = bench('--help');
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^npm run bench -- \[options\]/);
    assert.match(run.stdout, /--only <suite> +assignment, fleet, kubernetes or retrieval/);
    assert.doesNotMatch(run.stderr, /\[bench\] starting/);
  });

  it('refuses a wrong option or value with exit 2, naming it, before starting any server', () => {
    for (const [args, said] of [
      [['--only', 'fleets'], /^bench: only: Invalid option: expected one of "assignment"\|"fleet"/],
      [['--pods', 'many'], /^bench: pods: Invalid input: expected number/],
      [['--pods', '0'], /^bench: pods: Too small/],
      [['--bogus'], /^bench: Unknown option '--bogus'/],
    ] as const) {
      const run = bench(...args);
      assert.equal(run.status, 2, args.join(' '));
      assert.match(run.stderr, said);
      assert.match(run.stderr, /npm run bench -- \[options\]/, 'the usage follows');
      assert.doesNotMatch(run.stderr, /\[bench\] starting/);
    }
  });
});
