import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePorts } from '../src/host/ports';

describe('free ports', () => {
  it("picks distinct free ports below the range outgoing connections take theirs from (found by a stack's restart)", async () => {
    const ports = Object.values(await freePorts(['temporal', 'ui', 'nats', 'api', 'metrics']));
    assert.equal(new Set(ports).size, ports.length);
    const [ephemeral] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    for (const port of ports) {
      assert.ok(port >= 20_000 && port < ephemeral!, `${port} is below ${ephemeral} and above the well-known services`);
      await new Promise((bound, refused) => {
        const server = createServer().once('error', refused);
        server.listen(port, '127.0.0.1', () => server.close(bound));
      });
    }
  });
});
