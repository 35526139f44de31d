import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workflowBundle } from './support/worker';

/**
 * The modules workflows/index.ts imports statically: the ones the workers
 * preload into the reusable V8 context, once, and deep-freeze there (see
 * src/temporal/workflow-bundle.ts). Zod may not be among them: its schemas
 * complete themselves lazily, which a frozen object refuses.
 */
function preloaded(code: string): Set<string> {
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
  it('preloads the workflows once, without zod: schemas load per run, only where a workflow validates', async () => {
    const { code } = await workflowBundle();
    const preload = code.slice(code.indexOf('exports.preloadModules'), code.indexOf('exports.importWorkflows'));
    assert.match(
      preload,
      /__webpack_require__\([^)]*"\.\/workflows\/index\.ts"\)/,
      'the context preloads the workflows',
    );
    const once = [...preloaded(code)];
    assert.ok(
      once.includes('./workflows/task.ts') && once.some((id) => id.includes('@temporalio/workflow')),
      `the walk found the workflows: ${once.join(', ')}`,
    );
    assert.ok(code.includes('"./workflows/schemas.ts"'), 'the schemas are in the bundle, loaded on demand');
    assert.deepEqual(
      once.filter((id) => id.includes('/zod/') || id === './workflows/schemas.ts'),
      [],
    );
  });
});
