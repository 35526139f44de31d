import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findGo } from '../src/stack/executables';
import { goBuild } from '../src/stack/go-build';
import { tempDir } from './support/servers';

const go = findGo();

describe('Go builds', { skip: go ? undefined : 'Go is not installed' }, () => {
  const module = (main: string) => {
    const dir = tempDir('go');
    writeFileSync(join(dir, 'go.mod'), 'module example.com/hello\n\ngo 1.21\n');
    writeFileSync(join(dir, 'main.go'), main);
    return dir;
  };

  it('say what they build, that they are still going while compiling, and when they are done', async () => {
    const dir = module('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n');
    const lines: string[] = [];
    // A cold build cache takes seconds here: ticks every 50 ms must show up.
    await goBuild(
      go!,
      { what: 'hello', args: ['build', '-a', '-o', join(dir, 'hello'), '.'], cwd: dir, tickMs: 50 },
      (l) => lines.push(l),
    );
    assert.equal(lines[0], '  building hello');
    assert.match(lines.at(-1)!, /^ {2}built hello in \dm\d\ds$/);
    const ticks = lines.slice(1, -1);
    assert.ok(ticks.length > 0, `no progress while building: ${lines.join(' | ')}`);
    for (const tick of ticks)
      assert.match(tick, /^ {2}still building hello: \dm\d\ds, 0 modules downloaded, compiling$/);
  });

  it('fail naming what they were building, with the compiler output', async () => {
    const dir = module('package main\n\nfunc main() { undefinedThing() }\n');
    await assert.rejects(
      goBuild(go!, { what: 'broken', args: ['build', '.'], cwd: dir }, () => {}),
      /Building broken failed: .*undefined: undefinedThing/s,
    );
  });
});
