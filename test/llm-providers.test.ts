import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config';
import { LLMError, type LLMRequest } from '../src/llm/llm-client';
import { LLMRouter, describeModel } from '../src/llm/llm-router';
import { OfflineModel } from '../src/llm/offline-model';
import { jsonSchema, tool, type ModelMessage } from 'ai';
import { costUsd } from '../src/llm/pricing';
import {
  startLLMServer,
  systemOf,
  promptOf,
  toolNamesOf,
  toolResultsOf,
  type Answer,
  type SeenRequest,
} from './support/llm-server';

const request = (over: Partial<LLMRequest> = {}): LLMRequest => ({
  model: 'claude-sonnet-4-5',
  system: 'You are the developer agent.',
  prompt: 'Task: Add rate limiting\nWrite the code.',
  maxTokens: 1000,
  ...over,
});

describe('LLM providers (real clients against a local server speaking each wire format)', () => {
  let next: (r: SeenRequest) => Answer = () => ({ text: 'hello', inputTokens: 1200, outputTokens: 340 });
  const servers: { close(): Promise<void> }[] = [];
  const server = async () => {
    const s = await startLLMServer((r) => next(r));
    servers.push(s);
    return s;
  };
  after(() => Promise.all(servers.map((s) => s.close())));

  const cases = [
    { provider: 'claude', model: 'claude-sonnet-4-5', path: '/v1/messages', auth: ['x-api-key', 'sk-ant-secret-1234'] },
    {
      provider: 'openai',
      model: 'gpt-4.1',
      path: '/v1/chat/completions',
      auth: ['authorization', 'Bearer sk-openai-secret-1234'],
    },
    {
      provider: 'gemini',
      model: 'gemini-2.5-flash',
      path: '/v1beta/models/gemini-2.5-flash:generateContent',
      auth: ['x-goog-api-key', 'gemini-secret-1234'],
    },
    { provider: 'ollama', model: 'llama3.1', path: '/api/chat', auth: undefined },
  ] as const;

  for (const c of cases) {
    it(`${c.provider}: sends its wire format with the key in its header, reads text, tokens and cost`, async () => {
      const s = await server();
      next = () => ({ text: 'VERDICT: approve', inputTokens: 1200, outputTokens: 340 });
      const key = c.auth?.[1].replace('Bearer ', '');
      const router = new LLMRouter({ [c.provider]: { apiKey: key, baseUrl: s.url } });
      const answer = await router.complete(c.provider, request({ model: c.model }));
      assert.equal(answer.text, 'VERDICT: approve');
      assert.equal(answer.provider, c.provider);
      assert.deepEqual([answer.inputTokens, answer.outputTokens], [1200, 340]);
      assert.equal(answer.costUsd, costUsd(c.provider, c.model, 1200, 340));
      const seen = s.seen.at(-1)!;
      assert.equal(seen.path, c.path);
      if (c.auth) assert.equal(seen.headers[c.auth[0]], c.auth[1]);
      assert.equal(systemOf(seen.body), 'You are the developer agent.');
      assert.match(promptOf(seen.body), /Task: Add rate limiting/);
    });
  }

  const writeFile = tool({
    description: 'Write a file in the workspace',
    inputSchema: jsonSchema<{ path: string; content: string }>({
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    }),
  });

  for (const c of cases) {
    it(`${c.provider}: offers tools, reads a tool call, and carries its result back in its wire format`, async () => {
      const s = await server();
      next = (r) =>
        toolResultsOf(r.body).length
          ? { text: 'wrote it' }
          : { text: '', toolCalls: [{ id: 'call_1', name: 'write_file', input: { path: 'src/a.ts', content: 'x' } }] };
      const key = c.auth?.[1].replace('Bearer ', '');
      const router = new LLMRouter({ [c.provider]: { apiKey: key, baseUrl: s.url } });
      const messages: ModelMessage[] = [{ role: 'user', content: 'Task: Add rate limiting' }];
      const first = await router.complete(
        c.provider,
        request({ model: c.model, messages, tools: { write_file: writeFile } }),
      );
      assert.deepEqual(toolNamesOf(s.seen.at(-1)!.body), ['write_file']);
      assert.equal(first.toolCalls.length, 1);
      assert.equal(first.toolCalls[0]!.toolName, 'write_file');
      assert.deepEqual(first.toolCalls[0]!.input, { path: 'src/a.ts', content: 'x' });
      const call = first.toolCalls[0]!;
      const second = await router.complete(
        c.provider,
        request({
          model: c.model,
          tools: { write_file: writeFile },
          messages: [
            ...messages,
            ...first.messages,
            {
              role: 'tool',
              content: [
                {
                  type: 'tool-result',
                  toolCallId: call.toolCallId,
                  toolName: call.toolName,
                  output: { type: 'text', value: 'wrote src/a.ts' },
                },
              ],
            },
          ],
        }),
      );
      assert.equal(second.text, 'wrote it');
      assert.deepEqual(second.toolCalls, []);
      const [result] = toolResultsOf(s.seen.at(-1)!.body);
      assert.match(result!.output, /wrote src\/a\.ts/);
    });
  }

  it('prices calls by model: an Opus call costs more than the same Haiku call', () => {
    assert.ok(costUsd('claude', 'claude-opus-4-1', 1000, 1000) > costUsd('claude', 'claude-haiku-4-5', 1000, 1000));
    assert.equal(costUsd('claude', 'claude-sonnet-4-5', 1_000_000, 0), 3);
    assert.equal(costUsd('ollama', 'llama3.1', 1_000_000, 1_000_000), 0);
  });

  it('honours Retry-After on a 429 by waiting and asking the same provider again', async () => {
    const s = await server();
    let calls = 0;
    next = () => (++calls === 1 ? { status: 429, retryAfter: '2' } : { text: 'after the wait' });
    const waits: number[] = [];
    const router = new LLMRouter(
      { claude: { apiKey: 'k-12345678', baseUrl: s.url } },
      { sleep: async (ms) => waits.push(ms) },
    );
    const answer = await router.complete('claude', request());
    assert.equal(answer.text, 'after the wait');
    assert.deepEqual(waits, [2000]);
    assert.equal(calls, 2);
  });

  it('falls back to the next configured provider when the wait asked is too long, and says which failed', async () => {
    const s = await server();
    next = (r) => (r.path === '/v1/messages' ? { status: 429, retryAfter: '120' } : { text: 'from openai' });
    const router = new LLMRouter({
      claude: { apiKey: 'k-12345678', baseUrl: s.url },
      openai: { apiKey: 'o-12345678', baseUrl: s.url },
    });
    const answer = await router.complete('claude', request());
    assert.equal(answer.provider, 'openai');
    assert.equal(answer.model, 'gpt-4.1', 'the fallback is asked for its own model');
    assert.equal(answer.fallbacks.length, 1);
    assert.match(answer.fallbacks[0]!, /^claude: HTTP 429/);
  });

  it('falls back on server errors too, and fails with every reason when all providers fail, never with a key', async () => {
    const s = await server();
    const key = 'sk-very-secret-key-0042';
    next = (r) =>
      r.path === '/v1/messages' ? { status: 401, body: `{"error":"invalid x-api-key ${key}"}` } : { status: 503 };
    const router = new LLMRouter({ claude: { apiKey: key, baseUrl: s.url }, gemini: { apiKey: key, baseUrl: s.url } });
    const error = await router.complete('claude', request()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof LLMError);
    assert.match(error.message, /claude: HTTP 401/);
    assert.match(error.message, /gemini: HTTP 503/);
    assert.doesNotMatch(error.message, /very-secret/);
    assert.match(error.message, /\[redacted\]/);
  });

  it('rejects an answer that does not match the wire format, naming the field', async () => {
    const s = await server();
    next = () => ({ status: 200, body: '{"content":"not a list"}' });
    const router = new LLMRouter({ claude: { apiKey: 'k-12345678', baseUrl: s.url } });
    await assert.rejects(
      router.complete('claude', request()),
      /unexpected response: .*content: Invalid input: expected array/,
    );
  });

  it('uses the deterministic offline provider when no key is set', async () => {
    const router = new LLMRouter(loadConfig({}).llm);
    assert.deepEqual(
      router.chain('claude', 'claude-opus-4-1').map((c) => c.provider.provider),
      ['offline'],
    );
    const [a, b] = [await router.complete('claude', request()), await router.complete('claude', request())];
    assert.equal(a.text, b.text);
    assert.equal(a.provider, 'offline');
    assert.equal(a.costUsd, 0);
    assert.ok(a.outputTokens > 0);
  });

  it('says which model answers: the offline model names the key that would reach the model asked for', async () => {
    const asked = { provider: 'claude', model: 'claude-sonnet-4-5' } as const;
    assert.equal(
      new LLMRouter({}).answering(asked),
      'offline model (no ANTHROPIC_API_KEY; set it to use claude-sonnet-4-5)',
    );
    assert.equal(
      new LLMRouter({}).answering({ provider: 'gemini', model: 'gemini-2.5-flash' }),
      'offline model (no GEMINI_API_KEY; set it to use gemini-2.5-flash)',
    );
    assert.equal(new LLMRouter({ claude: { apiKey: 'k-12345678' } }).answering(asked), 'claude claude-sonnet-4-5');
    assert.equal(
      new LLMRouter({ openai: { apiKey: 'o-12345678' } }).answering(asked),
      'openai gpt-4.1 (in place of claude claude-sonnet-4-5)',
    );
    assert.equal(
      describeModel({ provider: 'offline', model: 'offline-1' }, { provider: 'offline', model: 'offline' }),
      'offline model',
    );
    const answer = await new LLMRouter({}).complete('claude', request());
    assert.equal(describeModel(asked, answer), 'offline model (no ANTHROPIC_API_KEY; set it to use claude-sonnet-4-5)');
  });

  it('offline artifacts are shaped by role: a plan as JSON, an ADR, verdicts, a decision among the options', async () => {
    const router = new LLMRouter({});
    const say = async (role: string, prompt = 'Task: Login rate limit') =>
      (await router.complete('offline', request({ system: `You are the ${role}.`, prompt }))).text;
    const plan = JSON.parse(await say('Orchestrator'));
    assert.ok(plan.subtasks.some((t: { role: string }) => t.role === 'developer'));
    assert.match(await say('Architect'), /^# ADR: Login rate limit/);
    assert.match(await say('Code Reviewer'), /VERDICT: approve/);
    const decision = JSON.parse(await say('Decision Maker', 'Task: deadline missed\nOptions: retry, abort'));
    assert.equal(decision.decision, 'retry');
  });

  it('the offline model calls the tools it is offered as its role would, one per step, then answers', async () => {
    const model = new OfflineModel();
    const tools = ['create_directory', 'write_file'].map((name) => ({
      type: 'function' as const,
      name,
      inputSchema: { type: 'object' as const },
    }));
    const call = async (toolResults: number) =>
      model.doGenerate({
        tools,
        prompt: [
          { role: 'system', content: 'You are a Developer.' },
          { role: 'user', content: [{ type: 'text', text: 'Task: Implement: Add a /health endpoint' }] },
          ...Array.from({ length: toolResults }, (_, i) => ({
            role: 'tool' as const,
            content: [
              {
                type: 'tool-result' as const,
                toolCallId: `offline-${i + 1}`,
                toolName: 'write_file',
                output: { type: 'text' as const, value: 'ok' },
              },
            ],
          })),
        ],
      });
    const steps = await Promise.all([0, 1, 2, 3, 4].map(call));
    assert.deepEqual(
      steps.map((s) =>
        s.content.map((c) => (c.type === 'tool-call' ? `${c.toolName} ${JSON.parse(c.input).path}` : c.type)),
      ),
      [
        ['create_directory src'],
        ['write_file src/add-a-health-endpoint.ts'],
        ['create_directory test'],
        ['write_file test/add-a-health-endpoint.test.ts'],
        ['text'],
      ],
    );
    assert.equal(steps[0]!.finishReason.unified, 'tool-calls');
    assert.deepEqual(await call(1), steps[1], 'deterministic');
  });

  it('reads provider settings from the environment, Ollama by URL alone', () => {
    const { llm } = loadConfig({
      ANTHROPIC_API_KEY: 'a-key',
      OLLAMA_BASE_URL: 'http://127.0.0.1:11434',
      OPENAI_BASE_URL: 'http://x.test',
    });
    assert.deepEqual(llm, {
      claude: { apiKey: 'a-key', baseUrl: undefined },
      ollama: { baseUrl: 'http://127.0.0.1:11434' },
    });
    assert.throws(() => loadConfig({ GEMINI_BASE_URL: 'not a url' }), /GEMINI_BASE_URL/);
  });
});
