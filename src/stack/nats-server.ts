import { firstLine, run, which, type Resolved } from './executables';
import { isListening } from '../host/ports';
import { startUntilReady, type SupervisedProcess } from './supervised-process';

const HOW_TO_INSTALL = `Install nats-server (2.9 or newer, with JetStream):
  apt-get install nats-server      (Debian/Ubuntu)
  brew install nats-server         (macOS)
  go install github.com/nats-io/nats-server/v2@latest`;

export function findNatsServer(): Resolved | undefined {
  const path = which('nats-server', ['/usr/sbin', '/usr/local/sbin']);
  return path
    ? { path, version: firstLine(path, ['--version']), source: path.startsWith('/usr/sbin') ? 'system' : 'PATH' }
    : undefined;
}

/** Finds nats-server, installing Debian's package when running as root. */
export async function ensureNatsServer(onProgress: (line: string) => void): Promise<Resolved> {
  const found = findNatsServer();
  if (found) return found;
  if (process.getuid?.() !== 0 || !which('apt-get')) throw new Error(`nats-server was not found.\n${HOW_TO_INSTALL}`);
  onProgress('installing nats-server with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', 'nats-server'], { env });
  const installed = findNatsServer();
  if (!installed) throw new Error(`apt-get installed nats-server but it is not on PATH.\n${HOW_TO_INSTALL}`);
  return installed;
}

export interface NatsServerOptions {
  bin: string;
  host: string;
  port: number;
  storeDir: string;
  logFile: string;
}

/** `nats-server -js` with its JetStream store in `storeDir`, ready when it accepts connections. */
export async function startNatsServer(options: NatsServerOptions): Promise<SupervisedProcess> {
  return startUntilReady(
    {
      name: 'nats',
      command: options.bin,
      args: ['-js', '-a', options.host, '-p', String(options.port), '-sd', options.storeDir, '--server_name', 'vapora'],
      logFile: options.logFile,
    },
    `nats-server on ${options.host}:${options.port}`,
    () => isListening(options.host, options.port),
    20_000,
  );
}
