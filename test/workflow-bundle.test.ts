import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workflowBundle } from './support/worker';

/**
 * The modules every workflow run evaluates: the bundle's static imports
 * from workflows/index.ts. The reusable V8 context evaluates them afresh
 * for each run, so what sits here costs every task (see workflows/validate-input.ts).
 */
function evaluatedPerRun(code: string): Set<string> {
  const modules = new Map<string, string>();
  for (const block of code.split(/^\/\*\*\*\/ (?="[^"\n]+"\n)/m).slice(1))
    modules.set(block.slice(1, block.indexOf('"', 1)), block);
  const lazy = /Promise\.resolve\(\/\*! import\(\) eager \*\/\)\.then\(\(\) => \(__webpack_require__\([^)]*\)\)\)/g;
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const body = modules.get(id);
    assert.ok(body !== undefined, `module ${id} is in the bundle`);
    for (const [, dep] of body.replace(lazy, '').matchAll(/__webpack_require__\((?:\/\*![^*]*\*\/ )?"([^"]+)"\)/g))
      visit(dep!);
  };
  visit('./workflows/index.ts');
  return seen;
}

describe('workflow bundle', () => {
  it('evaluates no zod per workflow run: schemas load only where a workflow validates', async () => {
    const { code } = await workflowBundle();
    const perRun = [...evaluatedPerRun(code)];
    assert.ok(
      perRun.includes('./workflows/task.ts') && perRun.some((id) => id.includes('@temporalio/workflow')),
      `the walk found the workflows: ${perRun.join(', ')}`,
    );
    assert.ok(code.includes('"./workflows/schemas.ts"'), 'the schemas are in the bundle, loaded on demand');
    assert.deepEqual(
      perRun.filter((id) => id.includes('/zod/') || id === './workflows/schemas.ts'),
      [],
    );
  });
});
