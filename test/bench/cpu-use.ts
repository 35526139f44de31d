import { liveProcesses, type LiveProcess } from '../support/processes';

/** CPU ms used so far by each group of this machine's live processes (empty where there is no /proc). */
export function cpuByGroup(groups: Record<string, (p: LiveProcess) => boolean>): Record<string, number> {
  const used: Record<string, number> = {};
  const processes = [...liveProcesses()];
  if (!processes.length) return used;
  for (const [group, member] of Object.entries(groups))
    used[group] = processes.filter(member).reduce((sum, p) => sum + p.cpuMs, 0);
  return used;
}
