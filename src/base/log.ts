/**
 * Diagnostics: one process-wide log with a level and a sink. The entry point sets both (the CLI
 * from `--log-level`, `-D` or `BERTH_LOG_LEVEL`, writing to stderr); until then nothing is
 * written. Pure: the sink is handed in, this module reaches nothing of the host.
 */
import { errorMessage, invalidArgument } from "./errors.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogSink = (level: LogLevel, message: string) => void;

let threshold = LOG_LEVELS.indexOf("info");
let sink: LogSink | undefined;

export function parseLogLevel(text: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === text.toLowerCase());
  if (!level) throw invalidArgument(`unable to parse logging level: ${text}`);
  return level;
}

/** Sets where log lines go and from which level on. */
export function configureLog(opts: { level: LogLevel; sink: LogSink }): void {
  threshold = LOG_LEVELS.indexOf(opts.level);
  sink = opts.sink;
}

export function logEnabled(level: LogLevel): boolean {
  return sink !== undefined && LOG_LEVELS.indexOf(level) >= threshold;
}

export function log(level: LogLevel, message: string): void {
  if (sink && LOG_LEVELS.indexOf(level) >= threshold) sink(level, message);
}

export const debug = (message: string): void => log("debug", message);

/**
 * Awaits a step whose failure must not fail the operation around it (tearing down what is
 * already gone, a second try at a cleanup that recovery will repeat) and records the failure at
 * debug level, so that a leaked mount or a failed CNI DEL can be traced. Resolves with the
 * step's value, or undefined when it failed.
 */
export async function bestEffort<T>(
  what: string,
  step: Promise<T> | (() => Promise<T>),
): Promise<T | undefined> {
  try {
    return await (typeof step === "function" ? step() : step);
  } catch (err) {
    debug(`${what}: ${errorMessage(err)}`);
    return undefined;
  }
}
