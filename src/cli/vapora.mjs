#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, resolved from this package so `npx vapora` works from any folder.
import process from 'node:process';
import { register } from 'tsx/esm/api';

if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(
    `vapora needs Node.js 22 or newer; this is ${process.version}.\n` +
      'Install it, or run `eval "$(bash scripts/node-22.sh)"` in the vapora checkout to use a cached Node 22 in this shell.\n',
  );
  process.exit(1);
}

register();
await import('./main.ts');
