import { proxyLocalActivities } from '@temporalio/workflow';

const { noop } = proxyLocalActivities<{ noop(id: string): Promise<void> }>({ startToCloseTimeout: '5s' });

/** The benchmark's baseline: the least a workflow can do, one no-op local activity. */
export async function baselineWorkflow(id: string): Promise<void> {
  await noop(id);
}
