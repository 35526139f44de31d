import { ensureSystemServer, findSystemServer, type SystemServer } from './debian-package';

/** Not part of a stack: the TLS terminator the tests put in front of Temporal, as an ingress does in a cluster. */
const NGINX: SystemServer = {
  command: 'nginx',
  // Debian's core build: TLS, HTTP/2 and grpc_pass, without the extra modules of nginx-full.
  debianPackage: 'nginx',
  howToInstall: `Install nginx (with TLS, HTTP/2 and gRPC proxying):
  apt-get install nginx            (Debian/Ubuntu)
  brew install nginx               (macOS)`,
  versionArgs: ['-v'],
};

export const findNginx = () => findSystemServer(NGINX);

/** Finds nginx, installing Debian's package when running as root. */
export const ensureNginx = (onProgress: (line: string) => void) => ensureSystemServer(NGINX, onProgress);
