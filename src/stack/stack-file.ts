import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { commandLineIs, isRunning } from '../host/live-process';

const RunningProcess = z.object({ pid: z.number().int().min(1), argv: z.array(z.string()) });
type RunningProcess = z.infer<typeof RunningProcess>;

/** `<stateDir>/stack.json`: the `vapora up` that owns a state dir, and the servers it started. */
export const StackRecord = z.object({ owner: RunningProcess, children: z.record(z.string(), RunningProcess) });
export type StackRecord = z.infer<typeof StackRecord>;

export const stackFile = (stateDir: string) => join(stateDir, 'stack.json');

export function readStack(file: string): StackRecord | undefined {
  try {
    return StackRecord.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Written whole or not at all: agents read it every few seconds. */
export function writeStack(file: string, record: StackRecord): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(record));
  renameSync(`${file}.tmp`, file);
}

export function removeStack(file: string): void {
  rmSync(file, { force: true });
}

/** True when the process recorded is still the one running under its pid. */
export const stillRunning = (p: RunningProcess) => isRunning(p.pid, commandLineIs(p.argv));

/** Why the stack recorded in `file` is gone, or undefined while its `vapora up` runs. */
export function stackGone(file: string): string | undefined {
  const record = readStack(file);
  if (!record) return `its stack's file ${file} is gone`;
  if (!stillRunning(record.owner)) return `the vapora up that started its stack (pid ${record.owner.pid}) is gone`;
  return undefined;
}
