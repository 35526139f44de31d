import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { installTeam } from '../src/client/pool-client';
import { loadConfig } from '../src/config';
import type { FeatureWorkflow } from '../src/contracts/workflow-types';
import { featureWorkflowId } from '../src/contracts/workflow-ids';
import { freePort } from '../src/host/ports';
import { CATALOG_DIR, loadManifests } from '../src/marketplace/manifest-loader';
import { startTracing } from '../src/observability/tracing';
import { ensureJaeger, startJaeger } from '../src/stack/jaeger';
import type { SupervisedProcess } from '../src/stack/supervised-process';
import { eventually, uninstallPools } from './support/fleet';
import { planeProcess } from './support/plane-process';
import { tempDir, testConverter, testServers, unique } from './support/servers';

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  startTime: number;
  processID: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

const tag = (tags: { key: string; value: unknown }[], key: string) => tags.find((t) => t.key === key)?.value;

/**
 * A feature end to end in one trace: this test as the client (service
 * vapora-cli), the real control plane and the catalog's 13 agents as
 * processes, spans exported over OTLP to a real Jaeger built from the Go
 * module proxy, read back through Jaeger's HTTP API.
 */
describe('traces (real Jaeger, the control plane and 13 agents as processes)', () => {
  const { temporalAddress } = testServers();
  let jaeger: SupervisedProcess;
  let ui: string;
  let otlp: string;
  let plane: Awaited<ReturnType<typeof planeProcess>>;
  let manifests: string[] = [];

  before(async () => {
    const bin = await ensureJaeger(loadConfig().cacheDir, (line) => console.log(line));
    const ports = { otlp: await freePort(), ui: await freePort(), grpc: await freePort(), health: await freePort() };
    const dir = tempDir('jaeger');
    jaeger = await startJaeger({ bin: bin.path, host: '127.0.0.1', ports, dir, logFile: join(dir, 'jaeger.log') });
    ui = `http://127.0.0.1:${ports.ui}`;
    otlp = `http://127.0.0.1:${ports.otlp}`;
    plane = await planeProcess('traced', { OTEL_EXPORTER_OTLP_ENDPOINT: otlp });
    plane.start();
    manifests = await installTeam(plane.client, plane.taskQueue, loadManifests(CATALOG_DIR), () => undefined);
  });
  after(async () => {
    await uninstallPools(plane.client, manifests);
    await plane.close();
    await jaeger?.stop();
  });

  it('holds spans of the client, the control plane and the agents under one trace, in causal order, LLM calls with their tokens', async () => {
    const tracing = startTracing(otlp, 'vapora-cli')!;
    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection, plugins: [tracing.plugin], dataConverter: testConverter() });
    const workflowId = featureWorkflowId(unique('traced'));
    const handle = await client.workflow.start<FeatureWorkflow>('featureWorkflow', {
      taskQueue: plane.taskQueue,
      workflowId,
      args: [{ title: 'Add rate limiting to the login API', options: { require_approval: false } }],
    });
    assert.equal((await handle.result()).phase, 'completed');
    await tracing.shutdown();
    await connection.close();

    const search = `${ui}/api/traces?service=vapora-cli&tags=${encodeURIComponent(JSON.stringify({ temporalWorkflowId: workflowId }))}`;
    // Fifteen processes export their spans in batches, each on its own clock: wait until the last batch is in.
    const complete = (found: JaegerTrace | undefined) => {
      const count = (pattern: RegExp) => found?.spans.filter((s) => pattern.test(s.operationName)).length ?? 0;
      const agents = new Set(
        Object.values(found?.processes ?? {})
          .filter((p) => p.serviceName === 'vapora-agent')
          .map((p) => tag(p.tags, 'service.instance.id')),
      );
      return (
        agents.size >= 10 &&
        count(/^publish vapora\.tasks\.assigned$/) >= 13 &&
        count(/^registry POST \/v1\/writes$/) >= 13 &&
        count(/^chat /) >= 13
      );
    };
    let last: JaegerTrace | undefined;
    const trace = await eventually(
      'the feature trace with the spans of every agent that worked on it',
      async () => {
        last = ((await (await fetch(search)).json()) as { data: JaegerTrace[] }).data[0];
        return complete(last) && last;
      },
      60_000,
      1_000,
    ).catch((error: Error) => {
      const counts = new Map<string, number>();
      for (const s of last?.spans ?? []) counts.set(s.operationName, (counts.get(s.operationName) ?? 0) + 1);
      const held = [...counts].map(([name, n]) => `${name} ×${n}`).join(', ');
      throw new Error(`${error.message}; the trace held: ${held}`, { cause: error });
    });
    const services = new Set(Object.values(trace.processes).map((p) => p.serviceName));
    assert.deepEqual([...services].sort(), ['vapora-agent', 'vapora-cli', 'vapora-control-plane']);
    assert.ok(trace.spans.every((s) => s.traceID === trace.traceID));

    // Causal order: every span starts no earlier than the span it is a child of.
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    let linked = 0;
    for (const span of trace.spans)
      for (const ref of span.references.filter((r) => r.refType === 'CHILD_OF')) {
        const parent = byId.get(ref.spanID);
        if (!parent) continue;
        linked++;
        assert.ok(parent.startTime <= span.startTime, `${parent.operationName} starts before ${span.operationName}`);
      }
    assert.ok(linked > trace.spans.length / 2, `${linked} of ${trace.spans.length} spans have their parent here`);
    const root = trace.spans.find((s) => s.references.length === 0)!;
    assert.equal(trace.processes[root.processID]?.serviceName, 'vapora-cli', 'the client started the trace');
    assert.match(root.operationName, /^StartWorkflow:featureWorkflow$/);

    // The steps: each LLM call in the GenAI conventions, tool calls, NATS publishes, registry writes.
    const named = (pattern: RegExp) => trace.spans.filter((s) => pattern.test(s.operationName));
    const llm = named(/^chat /);
    assert.ok(llm.length >= 13, `${llm.length} LLM spans`);
    for (const span of llm) {
      assert.equal(tag(span.tags, 'gen_ai.operation.name'), 'chat');
      assert.ok(Number(tag(span.tags, 'gen_ai.usage.input_tokens')) > 0);
      assert.ok(Number(tag(span.tags, 'gen_ai.usage.output_tokens')) > 0);
    }
    assert.ok(named(/^execute_tool write_file$/).length >= 2, 'the developers wrote files through their tools');
    assert.ok(named(/^publish vapora\.tasks\.assigned$/).length >= 13);
    assert.ok(named(/^registry POST \/v1\/writes$/).length >= 13);
    assert.ok(named(/^RunActivityTask:callModel$|^RunActivity:callModel$/).length >= 13);
  });

  it('puts the trace id in the log lines written inside a span', () => {
    const lines = readdirSync(plane.stateDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.log'))
      .flatMap((f) => readFileSync(join(plane.stateDir, f), 'utf8').split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { trace_id?: string; span_id?: string; msg: string });
    const traced = lines.filter((l) => l.trace_id);
    assert.ok(traced.length > 0, 'some lines are traced');
    assert.ok(traced.every((l) => /^[0-9a-f]{32}$/.test(l.trace_id!) && /^[0-9a-f]{16}$/.test(l.span_id!)));
  });
});
