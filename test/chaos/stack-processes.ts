import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readStack, stackFile } from '../../src/stack/stack-file';
import { liveProcesses } from '../support/processes';

/** A process of the stack under test, by the name a person reads in the report. */
export interface StackProcess {
  name: string;
  pid: number;
}

/** The servers `vapora up` supervises (temporal, nats, worker) as they run now, and every agent process by its record. */
export function stackProcesses(stateDir: string): StackProcess[] {
  const servers = Object.entries(readStack(stackFile(stateDir))?.children ?? {}).map(([name, p]) => ({
    name: name === 'worker' ? 'control-plane' : name,
    pid: p.pid,
  }));
  const dir = join(stateDir, 'agents');
  const agents = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .flatMap((e) => {
      try {
        const { agentId, pid } = JSON.parse(readFileSync(join(dir, e.name), 'utf8')) as {
          agentId: string;
          pid: number;
        };
        return [{ name: agentId, pid }];
      } catch {
        return []; // being rewritten
      }
    });
  return [...servers, ...agents];
}

/** Live processes that belong to the stack in `stateDir`: named in their command line, or told it in their environment. */
export function processesOf(stateDir: string): { pid: number; command: string }[] {
  return [...liveProcesses()]
    .filter(({ pid, argv }) => {
      if (pid === process.pid) return false;
      if (argv.some((a) => a.includes(stateDir))) return true;
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`VAPORA_STATE_DIR=${stateDir}`);
      } catch {
        return false;
      }
    })
    .map(({ pid, argv }) => ({ pid, command: argv.join(' ').slice(0, 160) }));
}

/** Resident memory (MiB) and open files of a process, from /proc; undefined once it is gone. */
export function resourcesOf(pid: number): { rssMiB: number; openFiles: number } | undefined {
  try {
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { rssMiB: Math.round(rssKiB / 1024), openFiles: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}
