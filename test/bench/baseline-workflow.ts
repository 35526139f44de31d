import { proxyLocalActivities } from '@temporalio/workflow';

const { noop } = proxyLocalActivities<{ noop(id: string): Promise<void> }>({ startToCloseTimeout: '5s' });

/** The benchmark's baseline: the least a workflow can do, one no-op local activity. */
export async function baselineWorkflow(id: string): Promise<void> {
  await noop(id);
}

export async function emptyWorkflow(): Promise<void> {}
import { condition, defineQuery, setHandler, defineUpdate } from '@temporalio/workflow';
export const q = defineQuery<number>('q');
export const u = defineUpdate<number>('u');
export async function waitingWorkflow(): Promise<void> { setHandler(q, () => 1); setHandler(u, () => 2); await condition(() => false); }
