import { patchLevelMemo } from '../contracts/patch-level';
import type { Client } from '@temporalio/client';
import type { ParsedFeatureInput } from '../contracts/feature-input';
import type { FeatureWorkflow } from '../contracts/workflow-types';
import { featureIdOf, featureWorkflowId } from '../contracts/workflow-ids';
import { VaporaCost, VaporaFeatureId, VaporaStatus } from '../temporal/search-attributes';
import { readableId } from './readable-id';

/** Starts `feature-<id>` with its input checked already; the title is kept in the memo for lists. */
export async function startFeature(
  client: Client,
  taskQueue: string,
  input: ParsedFeatureInput,
  id = readableId(input.title, 'feature'),
): Promise<{ workflowId: string; featureId: string }> {
  const workflowId = featureWorkflowId(id);
  await client.workflow.start<FeatureWorkflow>('featureWorkflow', {
    taskQueue,
    workflowId,
    args: [{ ...input, feature_id: id }],
    memo: { title: input.title, ...patchLevelMemo() },
    staticSummary: `feature: ${input.title}`.slice(0, 200),
    typedSearchAttributes: [{ key: VaporaFeatureId, value: id }],
  });
  return { workflowId, featureId: id };
}

export interface FeatureRow {
  id: string;
  featureId: string;
  status: string;
  phase: string;
  cost: number;
  started: Date;
  title: string;
}

/** Features newest first, from Temporal's visibility; `status` narrows to one execution status (Running, Completed, …). */
export async function listFeatures(
  client: Client,
  { limit, status }: { limit: number; status?: string },
): Promise<FeatureRow[]> {
  const rows: FeatureRow[] = [];
  const query = `WorkflowType = 'featureWorkflow'${status ? ` AND ExecutionStatus = '${status}'` : ''}`;
  for await (const w of client.workflow.list({ query })) {
    rows.push({
      id: w.workflowId,
      featureId: featureIdOf(w.workflowId),
      status: w.status.name,
      phase: w.typedSearchAttributes.get(VaporaStatus) ?? '-',
      cost: w.typedSearchAttributes.get(VaporaCost) ?? 0,
      started: w.startTime,
      title: typeof w.memo?.title === 'string' ? w.memo.title : '',
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
