export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** One line per event on stderr: time, level, component, message, then key=value fields. */
export function createLogger(
  component: string,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: LogFields = {}) => {
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null)}`)
        .join(' ');
      write(`${new Date().toISOString()} ${level} [${component}] ${message}${extra ? ` ${extra}` : ''}`);
    };
  return { info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}
