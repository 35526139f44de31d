import { fileURLToPath } from 'node:url';

/** The project's root folder, wherever the command was started from. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Node arguments that run a TypeScript entry point of this project (tsx resolved from here, not from the cwd). */
export function tsNodeArgs(entry: string): string[] {
  return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL(`../../${entry}`, import.meta.url))];
}
