import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { AgentManifest } from '../domain';
import { failureMessage } from '../temporal/failure-message';
import { scalePoolUpdate, type PoolStatus } from '../contracts/fleet';
import type { AgentPoolWorkflow } from '../contracts/workflow-types';
import { manifestIdOf, poolWorkflowId } from '../contracts/workflow-ids';
import { installOrder } from '../marketplace/dependency-graph';

/** Starts `pool-<manifestId>` and resolves once its instances are deployed; a refused install rejects with the reason. */
export async function installPool(
  client: Client,
  taskQueue: string,
  input: { manifestId: string; replicas: number; manifest?: AgentManifest },
): Promise<PoolStatus> {
  const handle = await client.workflow
    .start<AgentPoolWorkflow>('agentPoolWorkflow', {
      taskQueue,
      workflowId: poolWorkflowId(input.manifestId),
      args: [input],
      staticSummary: `agent pool ${input.manifestId}`,
    })
    .catch((error: unknown) => {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new Error(
          `${input.manifestId} is already installed; change its size with \`vapora agent scale ${input.manifestId} <N>\``,
        );
      }
      throw error;
    });
  try {
    return await handle.executeUpdate(scalePoolUpdate, { args: [input.replicas] });
  } catch (error) {
    // The update fails when the install was refused: the workflow's own failure says why.
    const { status } = await handle.describe();
    if (status.name === 'FAILED')
      await handle.result().catch((e: unknown) => Promise.reject(new Error(failureMessage(e))));
    throw new Error(failureMessage(error), { cause: error });
  }
}

/** Manifest ids whose pool workflow is running. */
export async function installedPools(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = 'agentPoolWorkflow' AND ExecutionStatus = 'Running'`,
  })) {
    ids.push(manifestIdOf(w.workflowId));
  }
  return ids.sort();
}

/**
 * Installs `manifests` one instance each, in waves: every manifest whose
 * dependencies are already installed goes in the same wave, in parallel.
 */
export async function installTeam(
  client: Client,
  taskQueue: string,
  manifests: AgentManifest[],
  onProgress: (line: string) => void,
): Promise<string[]> {
  const installed = new Set(await installedPools(client));
  const pending = installOrder(manifests).filter((m) => !installed.has(m.id));
  const done: string[] = [];
  while (pending.length) {
    // Optional dependencies order the waves too, so they are present when their dependents start.
    const wave = pending.filter((m) =>
      m.dependencies.every((d) => installed.has(d.agent_id) || !pending.some((p) => p.id === d.agent_id)),
    );
    if (wave.length === 0) throw new Error(`dependency cycle among ${pending.map((m) => m.id).join(', ')}`);
    onProgress(`installing ${wave.map((m) => m.id).join(', ')}`);
    await Promise.all(wave.map((m) => installPool(client, taskQueue, { manifestId: m.id, replicas: 1 })));
    for (const m of wave) {
      installed.add(m.id);
      done.push(m.id);
      pending.splice(pending.indexOf(m), 1);
    }
  }
  return done;
}
