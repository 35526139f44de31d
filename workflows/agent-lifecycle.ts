import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  agentDeployedSignal,
  lifecycleStatusQuery,
  retryAgentSignal,
  stopAgentSignal,
  watchAgainSignal,
  type DeployedAgent,
  type Deployment,
  type LifecycleInput,
  type LifecyclePhase,
  type LifecycleStatus,
  type WatchOutcome,
} from '../src/contracts/fleet';
import { VaporaStatus } from '../src/temporal/search-attributes';
import { applies } from './patches';

/** Restarts in a row without one healthy check before the agent is marked Error. */
export const MAX_RESTARTS_WITHOUT_HEALTH = 5;
/**
 * A watch's heartbeats only tell the server its worker lives, and each is a write there (one every 0.8 timeouts,
 * every agent: at a minute, a fleet of 1000 idle agents cost the server 21 writes a second): a plane that restarts
 * asks for its watches again (watchAgainSignal), so the timeout only has to catch a worker that dies while the plane
 * goes on elsewhere, which Kubernetes itself takes five minutes to evict pods from a lost node for.
 */
const WATCH_HEARTBEAT_MIN_SECS = 300;
/** The longest an agent that restarts itself waits in Error before it is tried again. */
const LONGEST_ERROR_WAIT_MS = 5 * 60_000;
// Runs begun before left an agent in Error until someone retried it.
const ERROR_TRIED_AGAIN = 'agent-in-error-tried-again';
// Runs begun before signalled their pool themselves once deployed.
const DEPLOY_TELLS_THE_POOL = 'deploy-tells-the-pool';

const { deployAgent, restartAgent, markAgentError, stopAgent } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * One agent instance, from deploy to stop (`agent-<agentId>`): a long-running
 * health-watch activity returns only when checks fail `threshold` times in a
 * row, so history grows with events, not with time. Then the instance is
 * restarted with backoff. After MAX_RESTARTS_WITHOUT_HEALTH in a row it is
 * marked Error and, as Kubernetes keeps restarting a crashing pod, tried again
 * after the next, longer wait (at most five minutes): what kept it down (a
 * server being restarted, say) may have passed. With auto-restart off it is
 * left in Error, for a person to look at and retry.
 */
export async function agentLifecycleWorkflow(input: LifecycleInput): Promise<LifecycleStatus> {
  const { agentId, manifestId, version } = input;
  let phase: LifecyclePhase = 'deploying';
  let stopReason: string | undefined;
  let updating = false;
  let retryRequested = false;
  let agent: DeployedAgent | undefined = input.carried?.agent;
  let stats = input.carried?.stats ?? { checks: 0, ok: 0 };
  let restarts = input.carried?.restarts ?? 0;
  let failedRestarts = input.carried?.failedRestarts ?? 0;
  let lastError: string | undefined;
  let continuing = false;
  /** The running health watch's scope, set only while it runs: a stop cancels it, and so does a request to watch again. */
  let watchScope: CancellationScope | undefined;
  let watchAgain = false;

  const status = (): LifecycleStatus => ({ agentId, phase, deployment: agent?.deployment, restarts, lastError, stats });
  const enter = (next: LifecyclePhase) => {
    phase = next;
    upsertSearchAttributes([{ key: VaporaStatus, value: next }]);
  };
  setHandler(lifecycleStatusQuery, status);
  setHandler(stopAgentSignal, (stop) => {
    if (stopReason === undefined) updating = stop.updating ?? false;
    stopReason ??= stop.reason;
    watchScope?.cancel();
  });
  setHandler(watchAgainSignal, () => {
    if (!watchScope) return;
    watchAgain = true;
    watchScope.cancel();
  });
  setHandler(retryAgentSignal, () => void (retryRequested = true));

  try {
    if (!agent) {
      const parent = workflowInfo().parent?.workflowId;
      const told = parent !== undefined && applies(DEPLOY_TELLS_THE_POOL);
      agent = await deployAgent(agentId, manifestId, version, told ? parent : undefined);
      if (parent && !told) await getExternalWorkflowHandle(parent).signal(agentDeployedSignal, agentId);
    }
    /** Watching already, asked to watch again: no status to announce. */
    let rewatching = false;
    while (stopReason === undefined) {
      const current: DeployedAgent = agent;
      if (!rewatching) enter('watching');
      const { watchHealth }: Pick<Activities, 'watchHealth'> = proxyActivities<Activities>({
        startToCloseTimeout: '3650d',
        heartbeatTimeout: `${Math.max(current.health.interval_secs + current.health.timeout_secs + 15, WATCH_HEARTBEAT_MIN_SECS)}s`,
        retry: { initialInterval: '1s', maximumInterval: '10s' },
        summary: `health checks of ${agentId}`,
      });
      watchScope = new CancellationScope();
      const outcome: WatchOutcome | undefined = await watchScope
        .run(() => watchHealth(agentId, current, stats))
        .catch((error: unknown) => {
          if ((stopReason !== undefined || watchAgain) && isCancellation(error)) return undefined;
          throw error;
        });
      watchScope = undefined;
      rewatching = !outcome && stopReason === undefined && watchAgain;
      watchAgain = false;
      if (rewatching) continue;
      if (!outcome) break;
      stats = outcome.stats;
      const failure = `${outcome.failures} consecutive failed health checks: ${outcome.lastError}`;
      lastError = failure;
      failedRestarts = outcome.sawHealthy ? 0 : failedRestarts;

      if (!current.health.auto_restart_enabled || failedRestarts >= MAX_RESTARTS_WITHOUT_HEALTH) {
        const reason: string = current.health.auto_restart_enabled
          ? `gave up after ${failedRestarts} restarts without a healthy check; last: ${failure}`
          : failure;
        enter('error');
        await markAgentError(agentId, reason);
        lastError = reason;
        const triedAgain = current.health.auto_restart_enabled && applies(ERROR_TRIED_AGAIN);
        await condition(
          () => stopReason !== undefined || retryRequested,
          triedAgain
            ? Math.min(current.health.interval_secs * 1000 * 2 ** failedRestarts, LONGEST_ERROR_WAIT_MS)
            : undefined,
        );
        retryRequested = false;
        failedRestarts = 0;
        if (stopReason !== undefined) break;
      } else if (failedRestarts > 0) {
        // Backoff grows with each restart that did not bring the agent back.
        await condition(
          () => stopReason !== undefined,
          current.health.interval_secs * 1000 * 2 ** (failedRestarts - 1),
        );
        if (stopReason !== undefined) break;
      }
      enter('restarting');
      const restarted: Deployment = await restartAgent(agentId, manifestId, failure, version);
      agent = { ...current, deployment: restarted };
      restarts++;
      failedRestarts++;
      if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5000) {
        continuing = true;
        await continueAsNew<typeof agentLifecycleWorkflow>({
          agentId,
          manifestId,
          version,
          carried: { agent, stats, restarts, failedRestarts },
        });
      }
    }
  } finally {
    // Cancellation (the pool going away) stops the instance too, so no process is left behind;
    // continue-as-new hands the running instance to the next run.
    // Best effort when the deploy never succeeded, so the workflow fails with the deploy's reason.
    if (!continuing)
      await CancellationScope.nonCancellable(async () => {
        enter('stopping');
        const reason = stopReason ?? 'lifecycle cancelled';
        const stopping = stopAgent(agentId, manifestId, reason, updating ? 'Updating' : 'Inactive', version);
        await (agent ? stopping : stopping.catch(() => undefined));
      });
  }
  return status();
}
