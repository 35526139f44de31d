import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ValidationError, parse } from '../src/domain';
import { loadConfig } from '../src/config';

describe('configuration from the environment', () => {
  it('defaults to the embedded stack on the standard ports', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.address, 'localhost:7233');
    assert.equal(config.temporal.uiPort, 8233);
    assert.equal(config.temporal.external, false);
    assert.equal(config.nats.url, 'nats://localhost:4222');
    assert.equal(config.surreal.url, `surrealkv://${resolve('.vapora', 'registry')}`);
    assert.equal(config.temporal.taskQueue, 'vapora');
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
