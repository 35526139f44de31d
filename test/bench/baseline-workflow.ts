import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

const { noop } = proxyLocalActivities<{ noop(id: string): Promise<void> }>({ startToCloseTimeout: '5s' });

/** The benchmark's baseline: the least a workflow can do, one no-op local activity. */
export async function baselineWorkflow(id: string): Promise<void> {
  await noop(id);
}

/**
 * The floor of a task's shape on Temporal: the baseline, then one no-op activity in another process (the agent's
 * part), with nothing of Vapora's. What a task costs beyond this is Vapora's own.
 */
export async function floorWorkflow(id: string, taskQueue: string): Promise<void> {
  await noop(id);
  await proxyActivities<{ work(): Promise<void> }>({ taskQueue, startToCloseTimeout: '1 minute' }).work();
}
