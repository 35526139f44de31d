import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { EventBus } from '../src/bus/event-bus';
import { freePort } from '../src/host/ports';
import { connectionLost, retry, whileDown } from '../src/host/retry';
import { findNatsServer, startNatsServer } from '../src/stack/nats-server';
import { startTemporalDevServer } from '../src/stack/temporal-dev-server';
import { nativeConnection } from '../src/temporal/connection';
import { tempDir, testServers } from './support/servers';

const { temporalCli } = testServers();

describe('an agent started while nats-server and Temporal restart (found by the chaos run)', () => {
  it('waits for both to come back, where it used to exit and count as a failed restart', async () => {
    const dir = tempDir('restarts');
    const [natsPort, temporalPort] = [await freePort(), await freePort()];
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    const temporal = { address: `127.0.0.1:${temporalPort}` };

    // Nobody listens yet: without the wait each fails at once, and the failure reads as a lost connection.
    await assert.rejects(EventBus.connect(natsUrl), (error) => connectionLost(error));
    await assert.rejects(nativeConnection(temporal), (error: Error) => {
      assert.ok(connectionLost(error), error.message);
      assert.match(error.message, new RegExp(`Temporal does not answer at ${temporal.address}`));
      return true;
    });

    const waitingBus = retry(() => EventBus.connect(natsUrl), whileDown(60_000, connectionLost));
    const waitingWorker = retry(() => nativeConnection(temporal), whileDown(60_000, connectionLost));
    await sleep(1_500);
    const nats = await startNatsServer({
      bin: findNatsServer()!.path,
      host: '127.0.0.1',
      port: natsPort,
      storeDir: join(dir, 'nats'),
      logFile: join(dir, 'nats.log'),
    });
    const server = await startTemporalDevServer({
      cli: temporalCli,
      host: '127.0.0.1',
      port: temporalPort,
      namespace: 'default',
      logFile: join(dir, 'temporal.log'),
    });
    try {
      const bus = await waitingBus;
      await bus.close();
      const connection = await waitingWorker;
      await connection.close();
    } finally {
      await Promise.all([nats.stop(), server.stop()]);
    }
  });

  it('does not wait for what will not pass: a name that does not resolve fails on the first try', async () => {
    let tries = 0;
    const connect = () => (tries++, EventBus.connect('nats://no-such-host.invalid:4222'));
    await assert.rejects(retry(connect, whileDown(60_000, connectionLost)), (error) => !connectionLost(error));
    assert.equal(tries, 1);
  });
});
