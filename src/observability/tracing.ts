import { SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { fileURLToPath } from 'node:url';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { SimplePlugin } from '@temporalio/plugin';
import type { ReplayWorkerOptions, WorkerOptions } from '@temporalio/worker';

/** One process's tracing: the Temporal plugin for its clients and workers, and a flush before it exits. */
export interface Tracing {
  plugin: SimplePlugin;
  shutdown(): Promise<void>;
}

/**
 * Temporal's OpenTelemetry interceptors for clients and activities, with
 * Vapora's own workflow interceptors (workflows/tracing-interceptors.ts, which
 * keep the OpenTelemetry SDK out of the workflow sandbox) exporting through
 * the package's sink.
 */
class TracingPlugin extends SimplePlugin {
  constructor(private readonly exporter: ReturnType<typeof makeWorkflowExporter>) {
    const client = { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
    super({
      name: 'VaporaTracing',
      clientInterceptors: client,
      workerInterceptors: {
        client,
        workflowModules: [fileURLToPath(new URL('../../workflows/tracing-interceptors.ts', import.meta.url))],
        activity: [
          (ctx) => ({
            inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
    });
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    return super.configureWorker({ ...options, sinks: { ...options.sinks, exporter: this.exporter } });
  }

  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    return super.configureReplayWorker({ ...options, sinks: { ...options.sinks, exporter: this.exporter } });
  }
}

/**
 * OpenTelemetry for this process when `endpoint` (OTEL_EXPORTER_OTLP_ENDPOINT)
 * is set, else nothing: spans batched over OTLP/HTTP, W3C trace context
 * across processes, and Temporal's interceptors (client → workflow →
 * activity, workflow spans exported through a sink).
 */
export function startTracing(
  endpoint: string | undefined,
  service: string,
  attributes: Attributes = {},
): Tracing | undefined {
  if (!endpoint) return undefined;
  const resource = new Resource({ 'service.name': service, ...attributes });
  const spanProcessor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
    { scheduledDelayMillis: 500 },
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    plugin: new TracingPlugin(makeWorkflowExporter(spanProcessor, resource)),
    shutdown: () => provider.shutdown(),
  };
}

const tracer = () => trace.getTracer('vapora');

/** Runs `work` in a span of its own (a child of the active one), ended with its outcome. */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active trace context as message headers (W3C `traceparent`), for a message that goes on NATS. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `work` in a span continuing the trace whose context `headers` carry (a message read from NATS). */
export function continuedFrom<T>(
  headers: { get(key: string): string },
  name: string,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), headers, {
    get: (carrier, key) => carrier.get(key) || undefined,
    keys: () => ['traceparent', 'tracestate'],
  });
  return context.with(parent, () => inSpan(name, { kind: SpanKind.CONSUMER }, work));
}

/** Trace and span ids of the active span, for log lines. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
}

export { SpanKind };
