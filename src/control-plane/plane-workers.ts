import { Worker, type WorkerOptions } from '@temporalio/worker';
import { dispatchTaskQueue } from '../contracts/task-queues';
import { WORKER_TUNING } from '../temporal/worker-tuning';

type PlaneWorkerOptions = Omit<WorkerOptions, 'workflowsPath'> & Required<Pick<WorkerOptions, 'workflowBundle'>>;

/**
 * The control plane's workers over one workflow bundle: the fleet's and the
 * tasks' workflows on `taskQueue`, the task dispatchers on a queue of their
 * own. Each worker has its own workflow thread, so an assignment never waits
 * behind the activations of the tasks already running.
 */
export async function createPlaneWorkers(options: PlaneWorkerOptions) {
  const queues = [options.taskQueue, dispatchTaskQueue(options.taskQueue)];
  const workers = await Promise.all(
    queues.map((taskQueue) => Worker.create({ ...WORKER_TUNING, ...options, taskQueue })),
  );
  const shutdown = () => workers.filter((w) => w.getState() === 'RUNNING').forEach((w) => w.shutdown());
  return {
    /** Runs both until `shutdown` (or SIGINT/SIGTERM); when one stops, for whatever reason, so does the other. */
    async run(): Promise<void> {
      const ended = await Promise.allSettled(workers.map((w) => w.run().finally(shutdown)));
      const failed = ended.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown,
  };
}
