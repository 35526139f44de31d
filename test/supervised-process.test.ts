import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';
import { onFreePorts } from '../src/host/ports';
import { startUntilReady } from '../src/stack/supervised-process';
import { isAlive } from './support/cli';
import { eventually } from './support/fleet';
import { tempDir } from './support/servers';

// An owner process (as `vapora up` is) that starts a server printing a line every 100 ms, prints its pid and waits.
const OWNER = `
import { SupervisedProcess } from './src/stack/supervised-process.ts';
const server = new SupervisedProcess({
  name: 'ticker',
  command: 'sh',
  args: ['-c', 'while :; do echo tick; sleep 0.1; done'],
  logFile: process.argv[1],
});
console.log(server.pid);
setInterval(() => undefined, 60_000);
`;

describe('a supervised server', () => {
  it('outlives a killed owner and goes on logging, so the next vapora up finds it and stops it', async () => {
    const logFile = join(tempDir('supervised'), 'ticker.log');
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', OWNER, logFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(owner.stdout, 'data')) as [Buffer];
    const pid = Number(line.toString().trim());
    try {
      await eventually('its first lines', async () => readFileSync(logFile, 'utf8').includes('tick'), 10_000, 50);
      owner.kill('SIGKILL');
      await once(owner, 'exit');
      const before = readFileSync(logFile, 'utf8').length;
      // Through a pipe to its owner, its next line would have killed it (SIGPIPE).
      await sleep(1000);
      assert.ok(isAlive(pid), 'the server died with its owner');
      assert.ok(readFileSync(logFile, 'utf8').length > before, 'the server stopped logging');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('that exits while starting says why, with the end of its log', async () => {
    const logFile = join(tempDir('supervised'), 'failing.log');
    const start = startUntilReady(
      {
        name: 'failing',
        command: 'sh',
        args: ['-c', 'echo starting; echo "bind: address in use" >&2; exit 1'],
        logFile,
      },
      'the failing server',
      async () => false,
      10_000,
    );
    await assert.rejects(start, (error: Error) => {
      assert.match(
        error.message,
        /^the failing server: it exited; see .*failing\.log, which ends:\n {2}starting\n {2}bind: address in use$/,
      );
      return true;
    });
  });

  it('whose port another process took is started again on fresh ones', async () => {
    const tries: { server: number; metrics: number }[] = [];
    const port = await onFreePorts(['server', 'metrics'], async (ports) => {
      tries.push(ports);
      if (tries.length > 1) return ports.server;
      // Someone binds the server's port between its choice and the start.
      const squatter = createServer().listen(ports.server, '127.0.0.1');
      await once(squatter, 'listening');
      const server = createServer().listen(ports.server, '127.0.0.1');
      const [error] = (await once(server, 'error')) as [Error];
      squatter.close();
      throw error;
    });
    const [first, second] = tries;
    assert.equal(tries.length, 2);
    assert.notEqual(first?.server, first?.metrics, 'the ports of one try are distinct');
    assert.equal(port, second?.server);
  });
});
