import type { HealthCheckConfig } from '../domain';
import type { CheckResult } from './deployer';
import type { Deployment } from '../contracts/fleet';

/** One check: the HTTP health endpoint answers 2xx within the timeout, and a heartbeat arrived recently. */
export async function checkOnce(
  deployment: Deployment,
  path: string,
  config: HealthCheckConfig,
  lastHeartbeatAt: number,
  now = Date.now(),
): Promise<CheckResult> {
  let runningTasks = 0;
  try {
    const response = await fetch(`http://${deployment.ip}:${deployment.port}${path}`, {
      signal: AbortSignal.timeout(config.timeout_secs * 1000),
    });
    if (!response.ok) return { ok: false, error: `health endpoint ${path} answered ${response.status}`, runningTasks };
    const body = (await response.json().catch(() => ({}))) as { running_tasks?: number };
    runningTasks = typeof body.running_tasks === 'number' ? body.running_tasks : 0;
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${config.timeout_secs}s` : (error as Error).message;
    return { ok: false, error: `health endpoint ${path}: ${reason}`, runningTasks };
  }
  const staleAfterMs = (2 * config.interval_secs + config.timeout_secs) * 1000;
  if (now - lastHeartbeatAt > staleAfterMs)
    return { ok: false, error: `no heartbeat for ${Math.round((now - lastHeartbeatAt) / 1000)}s`, runningTasks };
  return { ok: true, runningTasks };
}
