import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config';
import { ensureNginx } from '../src/stack/nginx';
import { TemporalUnreachable, nativeConnection, temporalConnection } from '../src/temporal/connection';
import { vapora } from './support/cli';
import { eventually } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { tempDir, testServers } from './support/servers';
import { makeCertificates } from './support/certificates';
import { startGrpcTlsProxy } from './support/tls-proxy';

// Debian's nginx (`npx vapora provision --tls` installs it); where it cannot be installed (not root, no apt-get) these skip and say why.
const nginx = await ensureNginx(() => undefined).catch((error: Error) => error);
const skip = nginx instanceof Error ? nginx.message : undefined;

describe('Temporal over TLS with client certificates (nginx in front of the dev server)', { skip }, () => {
  let proxy: Awaited<ReturnType<typeof startGrpcTlsProxy>>;
  let plane: Awaited<ReturnType<typeof planeProcess>> | undefined;
  let configFile: string;
  /** The environment of a process that knows Temporal only from the profile. */
  const profile = (name: string) => ({
    TEMPORAL_ADDRESS: undefined,
    TEMPORAL_CONFIG_FILE: configFile,
    TEMPORAL_PROFILE: name,
  });

  before(async () => {
    if (nginx instanceof Error) return;
    const dir = tempDir('tls');
    const certs = await makeCertificates(dir);
    proxy = await startGrpcTlsProxy({ nginx: nginx.path, dir, certs, upstream: testServers().temporalAddress });
    configFile = join(dir, 'temporal.toml');
    writeFileSync(
      configFile,
      `[profile.mtls]
address = "${proxy.address}"
namespace = "default"

[profile.mtls.tls]
server_ca_cert_path = "${certs.ca}"
client_cert_path = "${certs.client.cert}"
client_key_path = "${certs.client.key}"

[profile.no-client-cert]
address = "${proxy.address}"

[profile.no-client-cert.tls]
server_ca_cert_path = "${certs.ca}"
`,
    );
  });
  after(async () => {
    await plane?.close();
    await proxy?.stop();
  });

  it('runs a control-plane worker and the CLI through a TOML profile with a client certificate', async () => {
    const config = loadConfig(profile('mtls'));
    assert.equal(config.temporal.address, proxy.address);
    assert.equal(config.temporal.external, true);
    const tls = config.temporal.connection.tls;
    assert.ok(typeof tls === 'object' && tls.clientCertPair && tls.serverRootCACertificate);

    plane = await planeProcess('tls', profile('mtls'));
    plane.start();
    const log = join(plane.stateDir, 'control-plane.log');
    await eventually(
      'the control plane to be ready over TLS',
      async () => existsSync(log) && readFileSync(log, 'utf8').includes('worker ready'),
      120_000,
    ).catch((error: Error) => assert.fail(`${error.message}\n${readFileSync(log, 'utf8').slice(-2000)}`));

    // `vapora doctor` connects as the CLI does and runs stackCheckWorkflow: workflow → worker → SurrealDB → NATS.
    const doctor = await vapora(['doctor', '--json'], plane.env);
    const checks = (JSON.parse(doctor.stdout) as { checks: { check: string; status: string; detail: string }[] })
      .checks;
    const check = (name: string) => checks.find((c) => c.check === name);
    assert.match(check('temporal port')!.detail, new RegExp(`${proxy.address} .*: a server answers`));
    assert.equal(check('control plane')?.status, 'ok', JSON.stringify(check('control plane')));
    const features = await vapora(['feature', 'list', '--json'], plane.env);
    assert.equal(features.code, 0, features.stderr);
    assert.ok(Array.isArray(JSON.parse(features.stdout)));

    // All of it went through nginx: the worker's polls and the client's calls.
    const calls = readFileSync(proxy.accessLog, 'utf8');
    for (const call of ['WorkflowService/PollWorkflowTaskQueue', 'WorkflowService/StartWorkflowExecution'])
      assert.match(calls, new RegExp(`"POST /temporal\\.api\\.workflowservice\\.v1\\.${call} HTTP/2\\.0" 200`));
  });

  it('refuses a client that trusts the CA but has no client certificate', async () => {
    const { temporal } = loadConfig(profile('no-client-cert'));
    const refused = (error: unknown) => {
      assert.ok(error instanceof TemporalUnreachable);
      // nginx answers the call with HTTP 400 ("No required SSL certificate was sent").
      assert.match(error.message, new RegExp(`^Temporal does not answer at ${proxy.address} \\(TLS\\): .*400`));
      return true;
    };
    await assert.rejects(temporalConnection(temporal, { connectTimeout: 5000 }), refused);
    await assert.rejects(nativeConnection(temporal), refused);
    const cli = await vapora(['feature', 'list', '--json'], profile('no-client-cert'));
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, new RegExp(`Temporal does not answer at ${proxy.address} \\(TLS\\)`));
    // Refused by nginx's check of the client certificate, not by anything else on the way.
    assert.match(readFileSync(join(proxy.accessLog, '..', 'error.log'), 'utf8'), /no required SSL certificate/);
  });

  it('refuses a client without TLS', async () => {
    await assert.rejects(temporalConnection({ address: proxy.address }, { connectTimeout: 5000 }), (error: unknown) => {
      assert.ok(error instanceof TemporalUnreachable);
      assert.match(
        error.message,
        new RegExp(`^Temporal does not answer at ${proxy.address} \\(plain gRPC\\): .*not plain gRPC: a TLS port\\?`),
      );
      return true;
    });
  });
});
