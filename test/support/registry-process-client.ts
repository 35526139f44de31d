import { execFileSync } from 'node:child_process';

/** Runs test/support/registry-process.ts against `url` in a child process and returns its JSON answer. */
export function registryProcess(url: string, database: string, ...args: string[]): unknown {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'test/support/registry-process.ts', url, database, ...args],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}
