#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, resolved from this package so `npx vapora` works from any folder.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
