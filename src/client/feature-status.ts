import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FeatureStatus } from '../contracts/feature-input';
import { featureStatusQuery } from '../contracts/messages';
import { featureWorkflowId } from '../contracts/workflow-ids';

/** A feature's status by its query; a feature that does not exist is said so. */
export async function featureStatus(client: Client, featureId: string): Promise<FeatureStatus> {
  try {
    return await client.workflow.getHandle(featureWorkflowId(featureId)).query(featureStatusQuery);
  } catch (e) {
    if (e instanceof WorkflowNotFoundError)
      throw new Error(`no feature ${featureWorkflowId(featureId)} (vapora feature list)`, { cause: e });
    throw e;
  }
}
