/**
 * The server's log: one line per event on a stream (stderr), at or above the chosen level, in
 * dockerd's logfmt style (`time=… level=info msg="…"`).
 * It owns the line format and the level filter; it never decides what is worth logging (callers do).
 */

export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "fatal"];

export interface Logger {
  debug(msg: string, fields?: Readonly<Record<string, string | number>>): void;
  info(msg: string, fields?: Readonly<Record<string, string | number>>): void;
  warn(msg: string, fields?: Readonly<Record<string, string | number>>): void;
  error(msg: string, fields?: Readonly<Record<string, string | number>>): void;
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

export function createLogger(opts: {
  level: LogLevel;
  write: (line: string) => void;
  now?: () => Date;
}): Logger {
  const threshold = LOG_LEVELS.indexOf(opts.level);
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: Readonly<Record<string, string | number>>) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    let line = `time="${now().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
    for (const [k, v] of Object.entries(fields ?? {})) {
      line += ` ${k}=${typeof v === "number" ? String(v) : JSON.stringify(v)}`;
    }
    opts.write(`${line}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** A logger that drops everything (tests that do not look at the log). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
