import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StackCheck } from '../src/contracts/workflow-types';

const { shareKnowledge, readKnowledge, publishMessage } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/**
 * A round trip through every server the control plane owns: Temporal runs it,
 * SurrealDB stores and returns a knowledge entry, NATS carries a heartbeat.
 * `vapora up` and `vapora doctor` run it to prove the stack works end to end.
 */
export async function stackCheckWorkflow(): Promise<StackCheck> {
  const { workflowId } = workflowInfo();
  const key = `stack-check/${workflowId}`;
  await shareKnowledge({
    key,
    context_type: 'stack-check',
    from_agent: 'control-plane',
    to_roles: [],
    data: { workflowId },
    ttl_minutes: 5,
  });
  const stored = await readKnowledge(key);
  if (!stored) throw new Error(`the registry lost knowledge entry ${key}`);
  await publishMessage(
    { type: 'Heartbeat', agent_id: 'control-plane', status: 'Active', load: 0 },
    `${workflowId}/heartbeat`,
  );
  return { registry: 'ok', bus: 'ok', workflowId };
}
