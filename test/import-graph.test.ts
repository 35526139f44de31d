import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../src/host/project';

/** Every TypeScript file of the product (tests aside), relative to the project root. */
function sources(): string[] {
  return ['src', 'workflows', 'activities', 'workers'].flatMap((top) =>
    readdirSync(join(PROJECT_ROOT, top), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(top, f)),
  );
}

/** The project files `file` imports (statically, dynamically or as types), by relative path. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((s) => {
    const target = relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(file), s));
    return target.endsWith('.ts') || target.endsWith('.json')
      ? target
      : ([`${target}.ts`, join(target, 'index.ts')].find((t) => files.has(t)) ?? `${target}.ts`);
  });
}

const files = new Set(sources());
const graph = new Map([...files].map((f) => [f, importsOf(f)]));

/** Strongly connected components of more than one file (Tarjan), or a file importing itself. */
function circles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const f of [...files].sort()) if (!index.has(f)) visit(f);
  return found;
}

describe('imports', () => {
  it('resolves every relative import to a file of the project', () => {
    const broken = [...graph].flatMap(([f, targets]) =>
      targets.filter((t) => !files.has(t) && !t.endsWith('.json')).map((t) => `${f} → ${t}`),
    );
    assert.deepEqual(broken, []);
  });

  it('form no circle', () => {
    assert.deepEqual(circles(), []);
  });

  it('keep src/contracts to schemas and definitions: it imports only src/domain and itself', () => {
    const outside = [...graph].flatMap(([f, targets]) =>
      f.startsWith('src/contracts/')
        ? targets
            .filter((t) => !t.startsWith('src/contracts/') && !t.startsWith('src/domain/'))
            .map((t) => `${f} → ${t}`)
        : [],
    );
    assert.deepEqual(outside, []);
  });

  it('never lead from src/ into workflows/: clients use the definitions in src/contracts', () => {
    const crossing = [...graph].flatMap(([f, targets]) =>
      f.startsWith('src/') ? targets.filter((t) => t.startsWith('workflows/')).map((t) => `${f} → ${t}`) : [],
    );
    assert.deepEqual(crossing, []);
  });
});
