import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ValidationError, parse } from '../src/domain';
import { loadConfig } from '../src/config';
import { tempDir } from './support/servers';

describe('configuration from the environment', () => {
  it('defaults to the embedded stack on the standard ports', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.address, 'localhost:7233');
    assert.equal(config.temporal.uiPort, 8233);
    assert.equal(config.temporal.external, false);
    assert.equal(config.temporal.namespace, 'default');
    assert.deepEqual(config.temporal.connection, { tls: undefined, apiKey: undefined, metadata: undefined });
    assert.equal(config.nats.url, 'nats://localhost:4222');
    assert.equal(config.surreal.url, `surrealkv://${resolve('.vapora', 'registry')}`);
    assert.equal(config.temporal.taskQueue, 'vapora');
    assert.equal(config.temporal.stackTraces, false);
    assert.equal(loadConfig({ VAPORA_WORKFLOW_STACK_TRACES: 'true' }).temporal.stackTraces, true);
    assert.throws(() => loadConfig({ VAPORA_WORKFLOW_STACK_TRACES: 'yes' }), /VAPORA_WORKFLOW_STACK_TRACES: /);
  });
  it('marks user-named endpoints as external and accepts every SurrealDB scheme', () => {
    for (const url of ['mem://', 'surrealkv:///tmp/x', 'ws://db:8000'])
      assert.equal(loadConfig({ SURREAL_URL: url }).surreal.url, url);
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal:7233',
      NATS_URL: 'nats://nats:4222',
      TEMPORAL_UI_PORT: '9000',
    });
    assert.equal(config.temporal.external, true);
    assert.equal(config.nats.external, true);
    assert.equal(config.temporal.uiPort, 9000);
  });
  it('reaches NATS over TLS with a credentials file and a CA, from the state directory by default', () => {
    const stateDir = tempDir('config-nats');
    const secured = loadConfig({ NATS_URL: 'tls://nats.example:4222', NATS_CREDS: 'me.creds', NATS_CA: 'ca.pem' });
    assert.deepEqual(secured.nats, {
      url: 'tls://nats.example:4222',
      external: true,
      credsFile: resolve('me.creds'),
      caFile: resolve('ca.pem'),
    });
    // The CLI's credentials, once `vapora up` has issued them.
    assert.equal(loadConfig({ VAPORA_STATE_DIR: stateDir }).nats.credsFile, undefined);
    mkdirSync(join(stateDir, 'nats-auth'));
    writeFileSync(join(stateDir, 'nats-auth', 'cli.creds'), '');
    assert.equal(loadConfig({ VAPORA_STATE_DIR: stateDir }).nats.credsFile, join(stateDir, 'nats-auth', 'cli.creds'));
    // A password in the URL would be printed wherever the URL is.
    assert.throws(
      () => loadConfig({ NATS_URL: 'nats://me:secret@nats:4222' }),
      /NATS_URL: must be nats:\/\/host:port or tls:\/\/host:port \(credentials in NATS_CREDS\)$/m,
    );
  });
  it('names the variable, the rule and the bad value', () => {
    assert.throws(
      () =>
        loadConfig({
          TEMPORAL_ADDRESS: 'nope',
          NATS_URL: 'http://x',
          SURREAL_URL: 'postgres://x',
          TEMPORAL_UI_PORT: '70000',
        }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        for (const name of ['TEMPORAL_ADDRESS', 'NATS_URL', 'SURREAL_URL', 'TEMPORAL_UI_PORT'])
          assert.match(e.message, new RegExp(`${name}: `));
        assert.match(e.message, /TEMPORAL_ADDRESS: must be host:port.*\(got "nope"\)/);
        return true;
      },
    );
  });
  it('takes an embedding model of a configured provider, and names what is missing otherwise', () => {
    assert.equal(loadConfig({}).embedding, undefined);
    const config = loadConfig({ OPENAI_API_KEY: 'sk-x', VAPORA_EMBEDDING_MODEL: 'openai:text-embedding-3-small' });
    assert.deepEqual(config.embedding, {
      provider: 'openai',
      model: 'text-embedding-3-small',
      settings: { apiKey: 'sk-x', baseUrl: undefined },
    });
    assert.throws(
      () => loadConfig({ VAPORA_EMBEDDING_MODEL: 'gemini:text-embedding-004' }),
      /VAPORA_EMBEDDING_MODEL: gemini needs GEMINI_API_KEY to be set/,
    );
    assert.throws(
      () => loadConfig({ VAPORA_EMBEDDING_MODEL: 'claude:x' }),
      /VAPORA_EMBEDDING_MODEL: must be "<openai\|gemini\|ollama>:<model>"/,
    );
  });
  it('never echoes a value that may be a secret', () => {
    assert.throws(
      () => parse(z.object({ SURREAL_PASS: z.string().min(12) }), { SURREAL_PASS: 'hunter2' }, 'environment'),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.match(e.message, /SURREAL_PASS: /);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      },
    );
  });
});

describe('Temporal connection settings from a client profile (@temporalio/envconfig)', () => {
  // Only the PEM armour is checked when the configuration loads; the test with nginx uses real certificates.
  const dir = tempDir('profile');
  const pem = (name: string, label = 'CERTIFICATE') => {
    const path = join(dir, name);
    writeFileSync(path, `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`);
    return path;
  };
  const ca = pem('ca.pem');
  const cert = pem('client.pem');
  const key = pem('client-key.pem', 'PRIVATE KEY');
  const file = join(dir, 'temporal.toml');
  writeFileSync(
    file,
    `[profile.default]
address = "temporal.internal:7233"

[profile.cloud]
address = "vapora.a1b2c.tmprl.cloud:7233"
namespace = "vapora.a1b2c"

[profile.cloud.tls]
server_ca_cert_path = "${ca}"
client_cert_path = "${cert}"
client_key_path = "${key}"

[profile.cloud.grpc_meta]
x-team = "agents"

[profile.lost]
address = "lost:7233"

[profile.lost.tls]
client_cert_path = "${join(dir, 'missing.pem')}"
client_key_path = "${key}"
`,
  );
  const invalid = (env: NodeJS.ProcessEnv, ...problems: RegExp[]) =>
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError, String(e));
        for (const problem of problems) assert.match(e.message, problem);
        return true;
      },
    );

  it('reads the profile: address, namespace, TLS files and gRPC metadata, and marks the server external', () => {
    const { temporal } = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    assert.equal(temporal.address, 'vapora.a1b2c.tmprl.cloud:7233');
    assert.equal(temporal.namespace, 'vapora.a1b2c');
    assert.equal(temporal.external, true);
    const { tls, metadata } = temporal.connection;
    assert.ok(typeof tls === 'object');
    assert.match(Buffer.from(tls.serverRootCACertificate!).toString(), /BEGIN CERTIFICATE/);
    assert.match(Buffer.from(tls.clientCertPair!.key).toString(), /BEGIN PRIVATE KEY/);
    assert.deepEqual(metadata, { 'x-team': 'agents' });
    // Without TEMPORAL_PROFILE, the "default" profile.
    assert.equal(loadConfig({ TEMPORAL_CONFIG_FILE: file }).temporal.address, 'temporal.internal:7233');
  });

  it('lets the TEMPORAL_* variables override the profile, as the Temporal CLI does', () => {
    const { temporal } = loadConfig({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_ADDRESS: 'other:7233',
      TEMPORAL_NAMESPACE: 'elsewhere',
      TEMPORAL_TLS: 'false',
    });
    assert.deepEqual(
      [temporal.address, temporal.namespace, temporal.connection.tls],
      ['other:7233', 'elsewhere', false],
    );
    // An API key alone means TLS with the system's CAs, as for Temporal Cloud.
    const keyed = loadConfig({ TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' }).temporal.connection;
    assert.deepEqual([keyed.tls, keyed.apiKey], [true, 'k']);
    const fromVariables = loadConfig({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_GRPC_META_X_TEAM: 'agents',
    }).temporal;
    assert.equal(fromVariables.external, false);
    assert.ok(typeof fromVariables.connection.tls === 'object' && fromVariables.connection.tls.clientCertPair);
    assert.deepEqual(fromVariables.connection.metadata, { 'x-team': 'agents' });
  });

  it('names the variable or the key of the file that is wrong, and never echoes a key', () => {
    invalid(
      { TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') },
      /TEMPORAL_CONFIG_FILE: cannot read .*nope\.toml: no such file/,
    );
    invalid(
      { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' },
      /TEMPORAL_PROFILE: no profile "prod" in TEMPORAL_CONFIG_FILE \(.*temporal\.toml\) \(it has "default", "cloud", "lost"\)/,
    );
    invalid(
      { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'lost' },
      /tls\.client_cert_path in profile "lost" of TEMPORAL_CONFIG_FILE \(.*\): cannot read the client certificate \(no such file\)/,
    );
    invalid(
      { TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: file, TEMPORAL_API_KEY: 'sk-secret' },
      /TEMPORAL_TLS_CLIENT_KEY_PATH: the client key is not PEM/,
    );
    invalid(
      { TEMPORAL_TLS_CLIENT_CERT_PATH: cert },
      /TEMPORAL_TLS_CLIENT_CERT_PATH: the client certificate needs the client key too \(TEMPORAL_TLS_CLIENT_KEY_PATH/,
    );
    invalid({ TEMPORAL_TLS: 'yes' }, /TEMPORAL_TLS: /);
    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.default\naddress = 1\n');
    invalid({ TEMPORAL_CONFIG_FILE: broken }, /TEMPORAL_CONFIG_FILE \(.*broken\.toml\): \S/);
    const badAddress = join(dir, 'address.toml');
    writeFileSync(badAddress, '[profile.default]\naddress = "temporal"\n');
    invalid(
      { TEMPORAL_CONFIG_FILE: badAddress },
      /address of the Temporal profile .*: must be host:port.*\(got "temporal"\)/,
    );
    assert.throws(
      () => loadConfig({ TEMPORAL_API_KEY: 'sk-secret', TEMPORAL_TLS_CLIENT_KEY_PATH: key }),
      (e: unknown) => e instanceof ValidationError && !e.message.includes('sk-secret') && !e.message.includes('AAAA'),
    );
  });
});
