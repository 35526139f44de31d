import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/stack/executables';

export interface Certificates {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate: PEM files made by the openssl CLI. */
export async function makeCertificates(dir: string): Promise<Certificates> {
  const file = (name: string) => join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...newKey,
    ...['-keyout', file('ca-key.pem'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=Vapora test CA'],
  ]);
  // The SDK core's TLS (rustls) takes only v3 leaf certificates with the names and uses it checks.
  const issue = async (name: string, subject: string, extensions: string[]) => {
    writeFileSync(file(`${name}.ext`), `${extensions.join('\n')}\n`);
    await run('openssl', [
      'req',
      ...newKey,
      '-keyout',
      file(`${name}-key.pem`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      subject,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      ...['-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial'],
      ...['-CAserial', file('ca.srl'), '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)],
    ]);
    return { cert: file(`${name}.pem`), key: file(`${name}-key.pem`) };
  };
  const leaf = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment'];
  return {
    ca: file('ca.pem'),
    server: await issue('server', '/CN=localhost', [
      ...leaf,
      'extendedKeyUsage = serverAuth',
      'subjectAltName = DNS:localhost, IP:127.0.0.1',
    ]),
    client: await issue('client', '/CN=vapora-test-client', [...leaf, 'extendedKeyUsage = clientAuth']),
  };
}
