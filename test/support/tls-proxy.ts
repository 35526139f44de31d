import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isListening } from '../../src/host/ports';
import { startUntilReady } from '../../src/stack/supervised-process';
import type { Certificates } from './certificates';

/**
 * nginx terminating TLS in front of a Temporal frontend, as an ingress does:
 * HTTP/2 with the server certificate, a client certificate signed by the CA
 * required, gRPC passed on in plain text. Its files, logs and pid stay in `dir`.
 */
export async function startGrpcTlsProxy(options: {
  nginx: string;
  dir: string;
  certs: Certificates;
  upstream: string;
}) {
  const { dir, certs } = options;
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const accessLog = join(dir, 'access.log');
  writeFileSync(
    conf,
    `# One process the test owns: no workers changing user, none outliving it.
daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 256; }
http {
  access_log ${accessLog};
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${certs.server.cert};
    ssl_certificate_key ${certs.server.key};
    ssl_client_certificate ${certs.ca};
    ssl_verify_client on;
    # Workers' long polls last about a minute; payloads may exceed nginx's 1 MB default.
    grpc_read_timeout 5m;
    grpc_send_timeout 5m;
    client_max_body_size 0;
    location / {
      grpc_pass grpc://${options.upstream};
    }
  }
}
`,
  );
  const process = await startUntilReady(
    {
      name: 'nginx',
      command: options.nginx,
      args: ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')],
      logFile: join(dir, 'nginx.log'),
    },
    `nginx on 127.0.0.1:${port}`,
    () => isListening('127.0.0.1', port),
    15_000,
  );
  return {
    // By name, as clients reach a real ingress (and the certificate's DNS name is what is checked).
    address: `localhost:${port}`,
    /** One line per gRPC call that got through, e.g. `"POST /temporal.api.workflowservice.v1.WorkflowService/… HTTP/2.0" 200`. */
    accessLog,
    stop: () => process.stop(),
  };
}
