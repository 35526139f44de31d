import type { LogLevel, Logger as TemporalLogger } from '@temporalio/common';
import { pino } from 'pino';
import { activeTraceIds } from './observability/tracing';

export type LogFields = Record<string, unknown>;

/** What Vapora's code logs with: a message and its fields. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** On every line: who is speaking, e.g. `{ agentId }`. */
  fields?: LogFields;
  /** Where lines go instead of stderr (tests keep them). */
  write?: (line: string) => void;
}

/**
 * One JSON line per event on stderr (pino): time, level, component, pid, the
 * given fields, the message. It is also a Temporal SDK logger, so a worker
 * installs it as its Runtime's logger and SDK lines (with their workflow,
 * activity and task queue ids) join the same stream.
 */
export function createLogger(component: string, { fields, write }: LoggerOptions = {}): Logger & TemporalLogger {
  const log = pino(
    {
      base: { component, pid: process.pid, ...fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      // A line written inside a span carries its trace and span ids, to find the line from the trace and back.
      mixin: () => activeTraceIds() ?? {},
    },
    write ? { write: (line: string) => write(line.trimEnd()) } : pino.destination({ fd: 2, sync: true }),
  );
  const at =
    (level: 'trace' | 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, meta: LogFields = {}) =>
      log[level](meta, message);
  return {
    log: (level: LogLevel, message: string, meta?: LogFields) => at(LEVELS[level])(message, meta),
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
