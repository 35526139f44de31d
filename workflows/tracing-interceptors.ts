/**
 * Workflow spans without OpenTelemetry's SDK in the sandbox (not a workflow).
 *
 * @temporalio/interceptors-opentelemetry's workflow interceptors bring the
 * OpenTelemetry SDK into the bundle, and the reusable V8 context evaluates
 * interceptor modules afresh for every run: that evaluation alone doubled the
 * workflow thread's CPU per task. These interceptors make the same spans
 * (RunWorkflow, HandleSignal, HandleUpdate, StartActivity, StartChildWorkflow,
 * SignalWorkflow, ContinueAsNew) with the same header (`_tracer-data`, W3C
 * trace context), and hand them to the package's `exporter` sink, which turns
 * them into OpenTelemetry spans outside the sandbox.
 */
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import {
  AsyncLocalStorage,
  ContinueAsNew,
  proxySinks,
  workflowInfo,
  type Sinks,
  type WorkflowInterceptors,
} from '@temporalio/workflow';

const TRACE_HEADER = '_tracer-data';
const INTERNAL = 0;
const STATUS = { ok: 1, error: 2 } as const;

interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** What the package's `exporter` sink takes: an OpenTelemetry ReadableSpan, less its methods. */
interface SerializableSpan {
  name: string;
  kind: number;
  spanContext: SpanContext;
  parentSpanId?: string;
  startTime: [number, number];
  endTime: [number, number];
  duration: [number, number];
  status: { code: number; message?: string };
  attributes: Record<string, string>;
  links: [];
  events: [];
  ended: true;
  droppedAttributesCount: 0;
  droppedEventsCount: 0;
  droppedLinksCount: 0;
  instrumentationLibrary: { name: string };
}

interface ExporterSinks extends Sinks {
  exporter: { export(spans: SerializableSpan[]): void };
}

// Deterministic in a workflow (seeded per run), and sinks are not called on replay.
const hex = (bytes: number) =>
  Array.from({ length: bytes }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');
const hrTime = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

/** The span of the handler or run that is executing, for the spans it starts. */
const current = new AsyncLocalStorage<SpanContext>();
let exporter: ExporterSinks['exporter'] | undefined;

function fromHeaders(headers: Headers): SpanContext | undefined {
  const payload = headers[TRACE_HEADER];
  if (!payload) return undefined;
  const { traceparent } = defaultPayloadConverter.fromPayload<{ traceparent?: string }>(payload);
  const [, traceId, spanId, flags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent ?? '') ?? [];
  return traceId && spanId ? { traceId, spanId, traceFlags: parseInt(flags!, 16) } : undefined;
}

function withContext(headers: Headers, span: SpanContext): Headers {
  const traceparent = `00-${span.traceId}-${span.spanId}-0${span.traceFlags.toString(16)}`;
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload({ traceparent }) };
}

/** Runs `fn` in a new span, a child of `parent` (or of the running span), exported when it ends. */
async function inSpan<T>(
  name: string,
  fn: (span: SpanContext) => Promise<T>,
  { parent = current.getStore(), ok = () => false }: { parent?: SpanContext; ok?: (error: unknown) => boolean } = {},
): Promise<T> {
  const span = { traceId: parent?.traceId ?? hex(16), spanId: hex(8), traceFlags: parent?.traceFlags ?? 1 };
  const start = Date.now();
  const end = (status: SerializableSpan['status']) => {
    const finished = Date.now();
    exporter ??= proxySinks<ExporterSinks>().exporter;
    exporter.export([
      {
        name,
        kind: INTERNAL,
        spanContext: span,
        parentSpanId: parent?.spanId,
        startTime: hrTime(start),
        endTime: hrTime(finished),
        duration: hrTime(finished - start),
        status,
        attributes: {},
        links: [],
        events: [],
        ended: true,
        droppedAttributesCount: 0,
        droppedEventsCount: 0,
        droppedLinksCount: 0,
        instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
      },
    ]);
  };
  try {
    const result = await current.run(span, () => fn(span));
    end({ code: STATUS.ok });
    return result;
  } catch (error) {
    end(ok(error) ? { code: STATUS.ok } : { code: STATUS.error, message: (error as Error).message });
    throw error;
  }
}

/** Runs an outbound call in a span of its own, whose context goes along in the call's headers. */
const carried = <I extends { headers: Headers }, R>(
  name: string,
  input: I,
  next: (input: I) => Promise<R>,
  ok?: (error: unknown) => boolean,
) => inSpan(name, (span) => next({ ...input, headers: withContext(input.headers, span) }), { ok });

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      execute: (input, next) =>
        inSpan(`RunWorkflow:${workflowInfo().workflowType}`, () => next(input), {
          parent: fromHeaders(input.headers),
          ok: (error) => error instanceof ContinueAsNew,
        }),
      handleSignal: (input, next) =>
        inSpan(`HandleSignal:${input.signalName}`, () => next(input), { parent: fromHeaders(input.headers) }),
      handleUpdate: (input, next) =>
        inSpan(`HandleUpdate:${input.name}`, () => next(input), { parent: fromHeaders(input.headers) }),
    },
  ],
  outbound: [
    {
      scheduleActivity: (input, next) => carried(`StartActivity:${input.activityType}`, input, next),
      scheduleLocalActivity: (input, next) => carried(`StartActivity:${input.activityType}`, input, next),
      startChildWorkflowExecution: (input, next) => carried(`StartChildWorkflow:${input.workflowType}`, input, next),
      signalWorkflow: (input, next) => carried(`SignalWorkflow:${input.signalName}`, input, next),
      continueAsNew: (input, next) =>
        carried(`ContinueAsNew:${input.options.workflowType}`, input, next, (error) => error instanceof ContinueAsNew),
      getLogAttributes: (input, next) => {
        const span = current.getStore();
        return next(span ? { trace_id: span.traceId, span_id: span.spanId, ...input } : input);
      },
    },
  ],
});
