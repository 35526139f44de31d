import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import type { AgentManifest } from '../domain';
import { failureMessage } from '../temporal/failure-message';
import { unlessGone } from '../temporal/unless-gone';
import {
  poolStatusQuery,
  scalePoolUpdate,
  upgradePoolUpdate,
  watchAgainSignal,
  type PoolStatus,
  type UpgradeResult,
} from '../contracts/fleet';
import type { UpgradeRequest } from '../contracts/upgrade-request';
import type { AgentPoolWorkflow } from '../contracts/workflow-types';
import { manifestIdOf, poolWorkflowId } from '../contracts/workflow-ids';
import { installOrder } from '../marketplace/dependency-graph';
import { patchLevelMemo } from '../contracts/patch-level';
import { visibilityLiteral } from '../temporal/visibility-literal';

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
      memo: patchLevelMemo(),
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
 * Asks every lifecycle on `taskQueue` that watches its agent to watch again:
 * what a control plane that starts does, since the watches a killed one held
 * would otherwise wait out their heartbeat timeout. Returns how many it asked.
 */
export async function watchLifecyclesAgain(client: Client, taskQueue: string): Promise<number> {
  const query = `WorkflowType = 'agentLifecycleWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = ${visibilityLiteral(taskQueue)} AND VaporaStatus = 'watching'`;
  let asked = 0;
  const signalling: Promise<void>[] = [];
  for await (const w of client.workflow.list({ query })) {
    // A lifecycle that ended (or continued as new) meanwhile has a watch of its own.
    signalling.push(client.workflow.getHandle(w.workflowId, w.runId).signal(watchAgainSignal).catch(unlessGone));
    asked++;
    if (signalling.length >= 50) await Promise.all(signalling.splice(0));
  }
  await Promise.all(signalling);
  return asked;
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

/**
 * Rolls the pool of `manifestId` to another version (see agentPoolWorkflow)
 * and resolves when it is done; says each instance that comes or goes as it
 * happens. A refused or rolled-back upgrade rejects with the reason.
 */
export async function upgradePool(
  client: Client,
  manifestId: string,
  request: UpgradeRequest,
  onProgress: (line: string) => void,
): Promise<UpgradeResult> {
  const handle = client.workflow.getHandle(poolWorkflowId(manifestId));
  const versions = async () => (await handle.query(poolStatusQuery).catch(() => undefined))?.versions;
  let before = (await versions()) ?? {};
  /** Says which instances stopped and started since the last look (an id reused at another version is both). */
  const report = (now: Record<string, string>) => {
    for (const [id, version] of Object.entries(before))
      if (now[id] !== version) onProgress(`${id} (${version}) stopped`);
    for (const [id, version] of Object.entries(now))
      if (before[id] !== version) onProgress(`${id} (${version}) started`);
    before = now;
  };
  const update = await handle.startUpdate(upgradePoolUpdate, {
    args: [request],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  let done = false;
  const result = update.result().finally(() => (done = true));
  while (!done) {
    report((await versions()) ?? before);
    await Promise.race([result.catch(() => undefined), sleep(1000)]);
  }
  report((await versions()) ?? before);
  return result.catch((error: unknown) => Promise.reject(new Error(failureMessage(error), { cause: error })));
}
