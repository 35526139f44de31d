import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ENV_VARS, loadConfig } from '../src/config';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, unknown>;
}

const compose = parseYaml(readFileSync('temporal-compose.yml', 'utf8')) as { services: Record<string, Service> };
const services = compose.services;
/** Compose's `${VAR:-default}` as the default a fresh `docker compose up` would use, and `${VAR:?…}` as a value given. */
const substitute = (value: string) => value.replace(/\$\{\w+:-([^}]*)\}/g, '$1').replace(/\$\{\w+:\?[^}]*\}/g, 'given');

describe('temporal-compose.yml', () => {
  it('has the production-shaped services', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'nats',
      'postgresql',
      'surrealdb',
      'temporal',
      'temporal-ui',
      'vapora-worker',
    ]);
    assert.match(services.temporal!.image!, /^temporalio\/auto-setup:1\.29/);
    assert.equal(services.temporal!.environment!.DB, 'postgres12');
    assert.deepEqual((services.nats as { command: string[] }).command.slice(0, 1), ['-js']);
    assert.equal(services['vapora-worker']!.build!.dockerfile, 'deploy/Dockerfile');
    readFileSync(services['vapora-worker']!.build!.dockerfile, 'utf8');
  });

  it('publishes the same ports as the embedded defaults', () => {
    const defaults = loadConfig({});
    const published = (name: string) => services[name]!.ports!.map((p) => Number(p.split(':')[0]));
    assert.deepEqual(published('temporal'), [Number(defaults.temporal.address.split(':')[1])]);
    assert.deepEqual(published('temporal-ui'), [defaults.temporal.uiPort]);
    assert.deepEqual(published('nats'), [Number(defaults.nats.url.split(':')[2])]);
    assert.deepEqual(published('vapora-worker'), [defaults.api.port]);
  });

  it('has no default password: each must be given, or compose refuses to start', () => {
    const text = readFileSync('temporal-compose.yml', 'utf8');
    const secrets = [...text.matchAll(/\$\{(\w*(?:PASS|PASSWORD)\w*)(:.)/g)];
    assert.ok(secrets.length >= 4, `password variables (${secrets.length})`);
    for (const [whole, , how] of secrets) assert.equal(how, ':?', `${whole} must be required, not defaulted`);
  });

  it('configures the worker with the variables Vapora reads, pointing at the compose services', () => {
    const env = services['vapora-worker']!.environment!;
    for (const name of Object.keys(env)) assert.ok(ENV_VARS.includes(name), `${name} is not a Vapora variable`);
    const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, substitute(v)])));
    assert.equal(config.temporal.address, 'temporal:7233');
    assert.equal(config.nats.url, 'nats://nats:4222');
    assert.equal(config.surreal.url, 'ws://surrealdb:8000');
    const host = (url: string) => url.replace(/^\w+:\/\//, '').split(':')[0]!;
    for (const target of [config.temporal.address, config.nats.url, config.surreal.url])
      assert.ok(services[host(target)], `${target} is not a compose service`);
    assert.equal(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS, config.temporal.address);
    // The API answers beyond the container, and the operator token lives on a volume.
    assert.equal(config.api.host, '0.0.0.0');
    assert.equal(config.stateDir, '/var/lib/vapora');
  });
});
