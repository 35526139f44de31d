import { ensureSystemServer, findSystemServer, type SystemServer } from './debian-package';
import { isListening } from '../host/ports';
import { startUntilReady, type SupervisedProcess } from './supervised-process';

const NATS_SERVER: SystemServer = {
  command: 'nats-server',
  debianPackage: 'nats-server',
  howToInstall: `Install nats-server (2.9 or newer, with JetStream):
  apt-get install nats-server      (Debian/Ubuntu)
  brew install nats-server         (macOS)
  go install github.com/nats-io/nats-server/v2@latest`,
};

export const findNatsServer = () => findSystemServer(NATS_SERVER);

/** Finds nats-server, installing Debian's package when running as root. */
export const ensureNatsServer = (onProgress: (line: string) => void) => ensureSystemServer(NATS_SERVER, onProgress);

export interface NatsServerOptions {
  bin: string;
  host: string;
  port: number;
  storeDir: string;
  logFile: string;
  /** nats-server's monitoring endpoint (JSON at /varz, /jsz), on `host`. */
  monitorPort?: number;
  /** A configuration file of its own: who may connect and do what (see src/bus/nats-credentials.ts). */
  configFile?: string;
}

/** `nats-server -js` with its JetStream store in `storeDir`, ready when it accepts connections. */
export async function startNatsServer(options: NatsServerOptions): Promise<SupervisedProcess> {
  return startUntilReady(
    {
      name: 'nats',
      command: options.bin,
      args: [
        ...['-js', '-a', options.host, '-p', String(options.port), '-sd', options.storeDir, '--server_name', 'vapora'],
        ...(options.monitorPort ? ['-m', String(options.monitorPort)] : []),
        ...(options.configFile ? ['-c', options.configFile] : []),
      ],
      logFile: options.logFile,
    },
    `nats-server on ${options.host}:${options.port}`,
    () => isListening(options.host, options.port),
    20_000,
  );
}
