import { readFileSync, readdirSync } from 'node:fs';

export interface LiveProcess {
  pid: number;
  argv: string[];
  /** CPU time used so far, user and system, in ms (USER_HZ is 100 on Linux). */
  cpuMs: number;
}

/** This machine's live processes, from /proc (Linux; none elsewhere). */
export function* liveProcesses(): Generator<LiveProcess> {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return;
  }
  for (const entry of entries) {
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After "pid (comm) ": state, ppid, … utime and stime are fields 14 and 15 of stat(5).
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      if (fields[0] !== 'Z') yield { pid: Number(entry), argv, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
    } catch {
      // the process ended while we looked
    }
  }
}
