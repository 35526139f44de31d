import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { retry } from './retry';

/** True when something accepts TCP connections at host:port. */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A port free right now on loopback (outside the OS's ephemeral range where it leaves room: see freePorts). */
export async function freePort(): Promise<number> {
  return (await freePorts(['port'])).port;
}

/**
 * Distinct ports free right now on loopback, one per name: each is held until all are chosen, so none comes twice.
 * They are picked below the OS's ephemeral range where it leaves room: a port the OS hands out (`listen(0)`) is one
 * it also gives any outgoing connection as its own, so a stack started again on its saved ports found one of them
 * held by a connection of another process (the Temporal server then failed to bind it).
 */
export async function freePorts<Name extends string>(names: readonly Name[]): Promise<Record<Name, number>> {
  const servers: Server[] = [];
  const end = ephemeralStart();
  try {
    for (const _ of names) servers.push(await listeningBelow(end));
    return Object.fromEntries(
      names.map((name, i) => [name, (servers[i]?.address() as { port: number }).port]),
    ) as Record<Name, number>;
  } finally {
    await Promise.all(servers.map((server) => new Promise((closed) => server.close(closed))));
  }
}

/** Below this, ports are left to services that ask for them by number (Jaeger 16686, Prometheus 9090, NATS 4222). */
const LOWEST_PICKED = 20_000;

/** The first port of the OS's ephemeral range: Linux says; elsewhere, the IANA range's. */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low)) return low!;
  } catch {
    // not Linux
  }
  return 49_152;
}

/** A server on a random free port from LOWEST_PICKED up to `end`, or on one the OS picks when that range is small or full. */
async function listeningBelow(end: number): Promise<Server> {
  for (let tries = 0; end - LOWEST_PICKED > 1_000 && tries < 20; tries++) {
    const port = LOWEST_PICKED + Math.floor(Math.random() * (end - LOWEST_PICKED));
    try {
      return await listening(createServer(), port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
  return listening(createServer(), 0);
}

function listening(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Starts a server on ports free right now, and again on fresh ones when another process took one of them between
 * the choice and the start: a port found free is only free until someone binds it (the Temporal dev server, for
 * one, binds random ports of its own for its internal services).
 */
export function onFreePorts<Name extends string, T>(
  names: readonly Name[],
  start: (ports: Record<Name, number>) => Promise<T>,
): Promise<T> {
  return retry(async () => start(await freePorts(names)), {
    attempts: 3,
    retryable: (error) => /address already in use/i.test(String(error)),
    delayMs: () => 0,
  });
}

export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** Where a server URL (`nats://user:pass@host:port`, `tls://host:port`) points. */
export function urlHostPort(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Whether `url` answers with a 2xx: a server that is up and says it is ready. */
export async function answersOk(url: string): Promise<boolean> {
  return (await fetch(url).catch(() => undefined))?.ok === true;
}
