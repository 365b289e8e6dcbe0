/**
 * A container's logging configuration (`--log-driver`, `--log-opt`, HostConfig.LogConfig):
 * checked and completed once at create time, so what inspect shows is what conmon is told.
 *
 * Drivers: `k8s-file` (conmon's format, the default) and `none`. Options of k8s-file:
 * `max-size` in Docker's size units (binary multiples: 10k, 10m, 1g) and `max-file`, which must
 * be 1 — conmon starts the file afresh when a write would take it past max-size, which is what
 * Docker's json-file does with max-file=1; keeping older files needs a writer that outlives the
 * CLI, which berth does not have. Rotation is on by default: max-size 10m when none is given.
 */
import { invalidArgument } from "../base/errors.js";

export interface LogConfig {
  readonly Type: string;
  readonly Config: Record<string, string>;
}

/** The size at which a container's log starts afresh when `max-size` is not given. */
export const DEFAULT_LOG_MAX_SIZE = "10m";

const DRIVERS = new Set(["k8s-file", "none"]);
const REFUSED_DRIVERS = new Set([
  "json-file",
  "local",
  "journald",
  "syslog",
  "gelf",
  "fluentd",
  "awslogs",
  "splunk",
  "etwlogs",
  "gcplogs",
  "logentries",
]);
const UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** Docker's human size with binary multiples (go-units RAMInBytes): "10m", "1.5g", "512kb", "100". */
export function parseRamSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * (UNITS[(m[2] ?? "").toLowerCase()] ?? 1);
  return Number.isFinite(n) ? Math.floor(n) : undefined;
}

/**
 * Checks a requested LogConfig and returns the one in force (driver named, defaults filled in).
 * Errors are Docker's words for the same mistakes.
 */
export function resolveLogConfig(req: Partial<LogConfig> | undefined): LogConfig {
  const type = req?.Type || "k8s-file";
  const opts = req?.Config ?? {};
  if (REFUSED_DRIVERS.has(type))
    throw invalidArgument(`log driver "${type}" is not supported (k8s-file and none are)`);
  if (!DRIVERS.has(type)) throw invalidArgument(`logger: no log driver named '${type}' is registered`);
  for (const key of Object.keys(opts)) {
    if (type === "none" || (key !== "max-size" && key !== "max-file")) {
      if (type !== "none" && key === "tag") {
        throw invalidArgument(`log opt 'tag' is not supported: the ${type} log driver writes no tag`);
      }
      throw invalidArgument(`unknown log opt '${key}' for ${type} log driver`);
    }
  }
  if (type === "none") return { Type: "none", Config: {} };
  const size = opts["max-size"] ?? DEFAULT_LOG_MAX_SIZE;
  const bytes = parseRamSize(size);
  if (bytes === undefined) throw invalidArgument(`invalid size: '${size}'`);
  if (bytes <= 0) throw invalidArgument("max-size must be a positive number");
  const config: Record<string, string> = { "max-size": size };
  const files = opts["max-file"];
  if (files !== undefined) {
    if (!/^-?\d+$/.test(files)) throw invalidArgument(`strconv.Atoi: parsing "${files}": invalid syntax`);
    const n = Number(files);
    if (n < 1) throw invalidArgument("max-file cannot be less than 1");
    if (n > 1) {
      throw invalidArgument(
        `log opt max-file=${files} is not supported: berth keeps one log file, started afresh at max-size`,
      );
    }
    config["max-file"] = files;
  }
  // Keys sorted, as Go writes a map in inspect.
  return {
    Type: type,
    Config: Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** What conmon is told for a LogConfig in force: whether to log, and the size to start afresh at. */
export function conmonLogSettings(cfg: LogConfig | undefined): { log: boolean; sizeMax?: number } {
  const resolved = cfg ?? resolveLogConfig(undefined);
  if (resolved.Type === "none") return { log: false };
  const size = parseRamSize(resolved.Config["max-size"] ?? DEFAULT_LOG_MAX_SIZE);
  return size === undefined ? { log: true } : { log: true, sizeMax: size };
}
