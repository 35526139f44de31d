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

/** A port the OS considers free right now on loopback. */
export async function freePort(): Promise<number> {
  return (await freePorts(['port'])).port;
}

/** Distinct ports free right now on loopback, one per name: each is held until all are chosen, so none comes twice. */
export async function freePorts<Name extends string>(names: readonly Name[]): Promise<Record<Name, number>> {
  const servers: Server[] = [];
  try {
    for (const _ of names) servers.push(await listening(createServer()));
    return Object.fromEntries(
      names.map((name, i) => [name, (servers[i]?.address() as { port: number }).port]),
    ) as Record<Name, number>;
  } finally {
    await Promise.all(servers.map((server) => new Promise((closed) => server.close(closed))));
  }
}

function listening(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
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
