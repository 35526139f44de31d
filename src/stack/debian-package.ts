import { firstLine, run, which, type Resolved } from './executables';

/** A server Vapora runs from the machine, installed from Debian's package when it is missing. */
export interface SystemServer {
  command: string;
  debianPackage: string;
  /** How a person installs it where Vapora cannot (not root, or no apt-get). */
  howToInstall: string;
  /** What prints its version; `--version` unless it says otherwise. */
  versionArgs?: string[];
}

export function findSystemServer({ command, versionArgs = ['--version'] }: SystemServer): Resolved | undefined {
  const path = which(command, ['/usr/sbin', '/usr/local/sbin']);
  return path
    ? { path, version: firstLine(path, versionArgs), source: path.startsWith('/usr/') ? 'system' : 'PATH' }
    : undefined;
}

/** Finds the server, installing its Debian package when running as root. */
export async function ensureSystemServer(server: SystemServer, onProgress: (line: string) => void): Promise<Resolved> {
  const found = findSystemServer(server);
  if (found) return found;
  const missing = `${server.command} was not found.\n${server.howToInstall}`;
  if (process.getuid?.() !== 0 || !which('apt-get')) throw new Error(missing);
  onProgress(`installing ${server.debianPackage} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', server.debianPackage], { env });
  const installed = findSystemServer(server);
  if (!installed) throw new Error(`apt-get installed ${server.debianPackage}, but ${missing}`);
  return installed;
}
