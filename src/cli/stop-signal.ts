/**
 * The first SIGINT or SIGTERM: how a command running in the foreground is told
 * to stop. Later ones are ignored, so a second Ctrl-C (or a signal to the whole
 * process group after the first) cannot cut the stop short and leave children behind.
 */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (first) return process.stderr.write(`${signal}: still stopping after ${first}…\n`);
      first = signal;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
