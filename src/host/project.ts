import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The project's root folder, wherever the command was started from. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** This release of Vapora, as package.json says: what its MCP client and server tell their peers. */
export const VAPORA_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Node arguments that run a TypeScript entry point of this project (tsx resolved from here, not from the cwd). */
export function tsNodeArgs(entry: string): string[] {
  return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL(`../../${entry}`, import.meta.url))];
}
