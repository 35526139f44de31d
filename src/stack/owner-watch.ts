import type { Logger } from '../logger';
import { isListening } from '../host/ports';
import { replacedIn } from '../deploy/process-deployer';
import { stackGone } from './stack-file';

export interface OwnerWatch {
  /** The `vapora up` stack file (VAPORA_STACK_FILE): gone, or its owner dead, means the stack is gone. */
  stackFile?: string;
  /** The control plane's registry API: silent for `apiGraceMs` means the control plane is gone. */
  apiUrl?: string;
  apiGraceMs?: number;
  /** The process deployer's record of this agent: naming another process, it means another instance replaced this one. */
  agentRecord?: string;
  everyMs?: number;
}

/**
 * Calls `onGone` once with the reason when the stack a process belongs to is
 * gone: its `vapora up` died (even by SIGKILL, which nobody can catch) or its
 * control plane stopped answering for longer than a restart takes; or, for an
 * agent, when its deployer started another instance in its place: a control
 * plane killed while it restarted the agent left one it no longer knew of
 * (the chaos run found such a second instance 26 minutes on).
 */
function watchOwner(
  { stackFile, apiUrl, apiGraceMs = 30_000, agentRecord, everyMs = 2_000 }: OwnerWatch,
  onGone: (reason: string) => void,
): void {
  const url = apiUrl ? new URL(apiUrl) : undefined;
  const api = url && { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
  let answeredAt = Date.now();
  let checking = false;
  const check = async () => {
    const gone = (stackFile && stackGone(stackFile)) || (agentRecord && replacedIn(agentRecord));
    if (gone) return finish(gone);
    if (!api) return;
    if (await isListening(api.host, api.port)) answeredAt = Date.now();
    else if (Date.now() - answeredAt >= apiGraceMs)
      finish(`its control plane (${apiUrl}) has not answered for ${Math.round((Date.now() - answeredAt) / 1000)} s`);
  };
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void check().finally(() => (checking = false));
  }, everyMs);
  timer.unref();
  const finish = (reason: string) => {
    clearInterval(timer);
    onGone(reason);
  };
}

/** Drains this process as SIGTERM would once its stack is gone (or it was replaced), and exits anyway after `graceMs`. */
export function stopWhenOwnerGone(watch: OwnerWatch, log: Logger, graceMs = 15_000): void {
  watchOwner(watch, (reason) => {
    log.warn('stopping: nobody wants it any more', { reason });
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), graceMs).unref();
  });
}
