/**
 * A container's logging configuration (`--log-driver`, `--log-opt`, HostConfig.LogConfig):
 * checked and completed once at create time, so what inspect shows is what is done.
 *
 * Drivers: `k8s-file` (conmon's format, the default), `json-file` (Docker's format, made from
 * conmon's output by log-files.ts) and `none`. Options of both file drivers: `max-size` in Docker's
 * size units (binary multiples: 10k, 10m, 1g; 10m when not given: rotation is on by default) and
 * `max-file` (1 when not given: the file starts afresh at max-size; N keeps N files, the current
 * one and N-1 rotated ones); json-file also takes `tag` (a template of the container's and
 * image's names and IDs, written into each line's `attrs` as Docker's json-file does).
 */
import { invalidArgument } from "../base/errors.js";

export interface LogConfig {
  readonly Type: string;
  readonly Config: Record<string, string>;
}

/** The size at which a container's log starts afresh when `max-size` is not given. */
export const DEFAULT_LOG_MAX_SIZE = "10m";

const DRIVERS = new Set(["k8s-file", "json-file", "none"]);
const REFUSED_DRIVERS = new Set([
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
/** Options of Docker's json-file that berth does not implement (refused, never ignored). */
const REFUSED_JSON_OPTS = new Set(["compress", "labels", "labels-regex", "env", "env-regex"]);
/** The names a tag template may use (Docker's logger.Info methods and fields). */
const TAG_FIELDS = new Set(["ID", "FullID", "Name", "ImageID", "ImageFullID", "ImageName", "DaemonName"]);
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
    throw invalidArgument(`log driver "${type}" is not supported (k8s-file, json-file and none are)`);
  if (!DRIVERS.has(type)) throw invalidArgument(`logger: no log driver named '${type}' is registered`);
  for (const key of Object.keys(opts)) {
    if (type !== "none" && (key === "max-size" || key === "max-file")) continue;
    if (type === "json-file" && key === "tag") continue;
    if (type === "json-file" && REFUSED_JSON_OPTS.has(key))
      throw invalidArgument(`log opt '${key}' of the json-file log driver is not supported by berth`);
    if (type === "k8s-file" && key === "tag")
      throw invalidArgument("log opt 'tag' is not supported: the k8s-file log driver writes no tag");
    throw invalidArgument(`unknown log opt '${key}' for ${type} log driver`);
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
    if (Number(files) < 1) throw invalidArgument("max-file cannot be less than 1");
    config["max-file"] = files;
  }
  const tag = opts.tag;
  if (tag !== undefined) {
    checkTagTemplate(tag);
    config.tag = tag;
  }
  // Keys sorted, as Go writes a map in inspect.
  return {
    Type: type,
    Config: Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** Refuses a tag template that uses more of Go's templates than the names berth fills in. */
function checkTagTemplate(tag: string): void {
  for (const m of tag.matchAll(/\{\{(.*?)\}\}/g)) {
    const name = /^\s*\.(\w+)\s*$/.exec(m[1] ?? "")?.[1];
    if (!name || !TAG_FIELDS.has(name))
      throw invalidArgument(
        `log opt tag: template ${JSON.stringify(m[0])} is not supported (berth fills in {{.ID}}, {{.FullID}}, {{.Name}}, {{.ImageID}}, {{.ImageFullID}}, {{.ImageName}}, {{.DaemonName}})`,
      );
  }
}

/** What a tag template says for a container (Docker's logger.Info: ID is 12 digits, Name has no "/"). */
export function expandTag(
  tag: string,
  c: { id: string; name: string; imageId: string; imageName: string },
): string {
  const image = c.imageId.replace(/^sha256:/, "");
  const values: Record<string, string> = {
    ID: c.id.slice(0, 12),
    FullID: c.id,
    Name: c.name.replace(/^\//, ""),
    ImageID: image.slice(0, 12),
    ImageFullID: c.imageId,
    ImageName: c.imageName,
    DaemonName: "berth",
  };
  return tag.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, name: string) => values[name] ?? "");
}

/** How many files a LogConfig keeps (max-file, 1 when not given). */
export function maxLogFiles(cfg: LogConfig | undefined): number {
  const n = Number(cfg?.Config["max-file"] ?? "1");
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** The bytes at which a LogConfig's file rotates (max-size). */
export function maxLogSize(cfg: LogConfig | undefined): number {
  return (
    parseRamSize(cfg?.Config["max-size"] ?? DEFAULT_LOG_MAX_SIZE) ?? parseRamSize(DEFAULT_LOG_MAX_SIZE) ?? 0
  );
}

/**
 * Whether a container's log needs the store's supervisor while it runs: json-file (its lines are
 * made from conmon's output) and any rotation that keeps older files (max-file > 1).
 */
export function logNeedsSupervisor(cfg: LogConfig | undefined): boolean {
  return cfg?.Type === "json-file" || (cfg?.Type === "k8s-file" && maxLogFiles(cfg) > 1);
}

/**
 * What conmon is told for a LogConfig in force: whether to write its k8s-file, and the size at
 * which it starts the file afresh — only for k8s-file with one file; otherwise berth rotates
 * (conmon's own restart would throw away what has not been rotated or converted yet).
 */
export function conmonLogSettings(cfg: LogConfig | undefined): { log: boolean; sizeMax?: number } {
  const resolved = cfg ?? resolveLogConfig(undefined);
  if (resolved.Type === "none") return { log: false };
  if (resolved.Type !== "k8s-file" || maxLogFiles(resolved) > 1) return { log: true };
  const size = parseRamSize(resolved.Config["max-size"] ?? DEFAULT_LOG_MAX_SIZE);
  return size === undefined ? { log: true } : { log: true, sizeMax: size };
}
