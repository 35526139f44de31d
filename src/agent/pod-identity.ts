import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABELS } from '../deploy/agent-workload';

/**
 * In a pod, an agent learns which agent it is from the label its lifecycle
 * put on the pod (`vapora.dev/agent-id`), which the kubelet projects into
 * `file` (downward API, lines of `key="value"`). Resolves once it is there.
 */
export async function waitForClaim(file: string, signal: AbortSignal): Promise<string> {
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const line = text.split('\n').find((l) => l.startsWith(`${LABELS.agentId}=`));
    if (line) return JSON.parse(line.slice(LABELS.agentId.length + 1)) as string;
    await sleep(1_000, undefined, { signal });
  }
}
