import type { Client } from '@temporalio/client';
import { uninstallPoolUpdate } from '../../src/contracts/fleet';
import { poolWorkflowId } from '../../src/contracts/workflow-ids';
import type { AgentManifestInput } from '../../src/domain';
import { developerManifest } from './fixtures';
import { liveProcesses } from './processes';

/** A manifest whose health is checked every second, so fleet tests see failures quickly. */
export function fastManifest(id: string, overrides: Partial<AgentManifestInput> = {}): AgentManifestInput {
  return developerManifest({
    id,
    role: 'developer',
    dependencies: [],
    docker_image: `vapora/agents:${id}-0.1.0`,
    health_check: { interval_secs: 1, timeout_secs: 1, consecutive_failures_threshold: 2, auto_restart_enabled: true },
    ...overrides,
  });
}

/** Pids of live agent-worker processes whose agent id starts with `prefix`. */
export function agentProcesses(prefix: string): number[] {
  return [...liveProcesses()]
    .filter(
      ({ argv }) => argv.some((a) => a.endsWith('workers/agent-worker.ts')) && argv.some((a) => a.startsWith(prefix)),
    )
    .map((p) => p.pid)
    .sort((a, b) => a - b);
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

/** Uninstalls the pools of `manifestIds`, forced (their agents stop); one already gone is no matter. */
export async function uninstallPools(client: Client, manifestIds: string[]): Promise<void> {
  await Promise.all(
    manifestIds.map((id) =>
      client.workflow
        .getHandle(poolWorkflowId(id))
        .executeUpdate(uninstallPoolUpdate, { args: [{ force: true }] })
        .catch(() => undefined),
    ),
  );
}
