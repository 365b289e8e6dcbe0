/**
 * `run`/`create` flags, parsed into the Docker Engine API's ContainerCreateRequest as the
 * Docker CLI does (opts/parse.go): env and env files, volumes and mounts, limits, restart
 * policy, ulimits, ports.
 */
import { isIP } from "node:net";
import { resolve as resolvePath } from "node:path";
import { parseGoDurationNs } from "../../base/duration.js";
import { invalidArgument } from "../../base/errors.js";
import type {
  ContainerCreateRequest,
  HostConfig,
  MountSpec,
  PortBinding,
  Ulimit,
} from "../../engine/types.js";
import { exposedPortKeys, parsePublishSpec, portKeys } from "../../oci/ports.js";
import { readKeyValueFile } from "../env-file.js";
import type { FlagSpec, Flags } from "../flags.js";
import { UsageError } from "../flags.js";
import { ramInBytes } from "../format/units.js";

/** A flag that takes a value: `s` a string, `l` a list; the help names the value by its type. */
const valued =
  (type: "string" | "list") =>
  (name: string, description: string, short?: string, valueName: string = type): FlagSpec => ({
    name,
    type,
    description,
    valueName,
    ...(short ? { short } : {}),
  });
const s = valued("string");
const l = valued("list");
const b = (name: string, description: string, short?: string): FlagSpec => ({
  name,
  type: "bool",
  description,
  ...(short ? { short } : {}),
});

/** Flags shared by `create` and `run`, named and described as Docker's. */
export const CREATE_FLAGS: readonly FlagSpec[] = [
  l("add-host", "Add a custom host-to-IP mapping (host:ip)"),
  l("attach", "Attach to STDIN, STDOUT or STDERR", "a"),
  l("cap-add", "Add Linux capabilities"),
  l("cap-drop", "Drop Linux capabilities"),
  s("cidfile", "Write the container ID to the file"),
  s("cpu-period", "Limit CPU CFS (Completely Fair Scheduler) period", undefined, "int"),
  s("cpu-quota", "Limit CPU CFS (Completely Fair Scheduler) quota", undefined, "int"),
  s("cpu-shares", "CPU shares (relative weight)", "c", "int"),
  s("cpus", "Number of CPUs", undefined, "decimal"),
  s("cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)"),
  l("device", "Add a host device to the container"),
  l("dns", "Set custom DNS servers"),
  l("dns-option", "Set DNS options"),
  l("dns-search", "Set custom DNS search domains"),
  s("entrypoint", "Overwrite the default ENTRYPOINT of the image"),
  l("env", "Set environment variables", "e"),
  l("env-file", "Read in a file of environment variables"),
  l("expose", "Expose a port or a range of ports"),
  l("group-add", "Add additional groups to join"),
  s("health-cmd", "Command to run to check health"),
  s("health-interval", "Time between running the check (ms|s|m|h) (default 0s)", undefined, "duration"),
  s("health-retries", "Consecutive failures needed to report unhealthy", undefined, "int"),
  s(
    "health-start-interval",
    "Time between running the check during the start period (ms|s|m|h) (default 0s)",
    undefined,
    "duration",
  ),
  s(
    "health-start-period",
    "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)",
    undefined,
    "duration",
  ),
  s(
    "health-timeout",
    "Maximum time to allow one check to run (ms|s|m|h) (default 0s)",
    undefined,
    "duration",
  ),
  s("hostname", "Container host name", "h"),
  b("init", "Run an init inside the container that forwards signals and reaps processes"),
  b("interactive", "Keep STDIN open even if not attached", "i"),
  s("ip", "IPv4 address (e.g., 172.30.100.104)"),
  s("ipc", "IPC mode to use"),
  l("label", "Set meta data on a container", "l"),
  l("label-file", "Read in a line delimited file of labels"),
  s("log-driver", "Logging driver for the container"),
  l("log-opt", "Log driver options"),
  s("memory", "Memory limit", "m", "bytes"),
  s("memory-reservation", "Memory soft limit", undefined, "bytes"),
  s("memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", undefined, "bytes"),
  l("mount", "Attach a filesystem mount to the container", undefined, "mount"),
  s("name", "Assign a name to the container"),
  s("network", "Connect a container to a network", undefined, "network"),
  b("no-healthcheck", "Disable any container-specified HEALTHCHECK"),
  { name: "net", type: "string", description: "Connect a container to a network", hidden: true },
  l("network-alias", "Add network-scoped alias for the container"),
  s("oom-score-adj", "Tune host's OOM preferences (-1000 to 1000)", undefined, "int"),
  s("pid", "PID namespace to use"),
  s("pids-limit", "Tune container pids limit (set -1 for unlimited)", undefined, "int"),
  s("platform", "Set platform if server is multi-platform capable"),
  b("privileged", "Give extended privileges to this container"),
  l("publish", "Publish a container's port(s) to the host", "p"),
  b("publish-all", "Publish all exposed ports to random ports", "P"),
  s("pull", 'Pull image before running ("always", "missing", "never")'),
  b("quiet", "Suppress the pull output", "q"),
  b("read-only", "Mount the container's root filesystem as read only"),
  s("restart", "Restart policy to apply when a container exits"),
  b("rm", "Automatically remove the container and its associated anonymous volumes when it exits"),
  l("security-opt", "Security Options"),
  s("shm-size", "Size of /dev/shm", undefined, "bytes"),
  s("stop-signal", "Signal to stop the container"),
  s("stop-timeout", "Timeout (in seconds) to stop a container", undefined, "int"),
  l("sysctl", "Sysctl options", undefined, "map"),
  l("tmpfs", "Mount a tmpfs directory"),
  b("tty", "Allocate a pseudo-TTY", "t"),
  l("ulimit", "Ulimit options", undefined, "ulimit"),
  s("user", "Username or UID (format: <name|uid>[:<group|gid>])", "u"),
  s("uts", "UTS namespace to use"),
  l("volume", "Bind mount a volume", "v"),
  s("workdir", "Working directory inside the container", "w"),
];

export const RUN_ONLY_FLAGS: readonly FlagSpec[] = [
  b("detach", "Run container in background and print container ID", "d"),
  s("detach-keys", "Override the key sequence for detaching a container"),
  {
    name: "sig-proxy",
    type: "bool",
    description: "Proxy received signals to the process",
    defaultText: "true",
  },
];

export function int(flags: Flags, name: string): number | undefined {
  const v = flags.string(name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v))
    throw new UsageError(
      `invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`,
    );
  return Number(v);
}

export function bytes(flags: Flags, name: string): number | undefined {
  const v = flags.string(name);
  if (v === undefined) return undefined;
  if (v === "-1") return -1;
  try {
    return ramInBytes(v);
  } catch (err) {
    throw new UsageError(
      `invalid argument "${v}" for "--${name}" flag: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** `--cpus` (a decimal number of CPUs) as nanoCPUs, as Docker's opts.NanoCPUs reads it. */
export function nanoCpus(flags: Flags): number | undefined {
  const cpus = flags.string("cpus");
  if (cpus === undefined) return undefined;
  if (!/^\d*\.?\d+$/.test(cpus))
    throw new UsageError(
      `invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`,
    );
  return Math.round(Number(cpus) * 1e9);
}

/** Sets `target[key]` to a flag's value when the flag was given. */
export function setGiven<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** `-e KEY=VALUE`, `-e KEY` (from our environment; dropped when unset) and env files. */
export function parseEnv(
  values: readonly string[],
  files: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const out: string[] = [];
  const take = (line: string) => {
    if (line.includes("=")) {
      if (line.startsWith("=")) throw invalidArgument(`invalid environment variable: ${line}`);
      out.push(line);
    } else if (env[line] !== undefined) out.push(`${line}=${env[line]}`);
  };
  for (const f of files) out.push(...readKeyValueFile(f, { lookup: (k) => env[k], dropUnknown: true }));
  for (const v of values) take(v);
  return out;
}

function parseLabels(values: readonly string[], files: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const given = values.map((v) => v.trim()).filter((v) => v !== "" && !v.startsWith("#"));
  for (const line of [...files.flatMap((f) => readKeyValueFile(f, {})), ...given]) {
    const eq = line.indexOf("=");
    out[eq < 0 ? line : line.slice(0, eq)] = eq < 0 ? "" : line.slice(eq + 1);
  }
  return out;
}

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export function parseRestart(v: string): HostConfig["RestartPolicy"] {
  const [name, count] = v.split(":");
  if (name === "on-failure") {
    if (count !== undefined && !/^\d+$/.test(count))
      throw invalidArgument(`invalid restart policy format: maximum retry count must be an integer`);
    return { Name: "on-failure", MaximumRetryCount: count ? Number(count) : 0 };
  }
  if (!["no", "always", "unless-stopped"].includes(name ?? "") || count !== undefined) {
    throw invalidArgument(`invalid restart policy format: ${v}`);
  }
  return { Name: name as string, MaximumRetryCount: 0 };
}

/** `--ulimit nofile=1024:2048`. */
export function parseUlimit(v: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw invalidArgument(`invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard)
    throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1] as string, Soft: soft, Hard: hard };
}

/**
 * A bind source of `.` or `./…` is the CLI's working directory or below it (Docker's CLI since
 * 23.0 makes these absolute before sending the request); anything else is left as given.
 */
export function absoluteBindSource(source: string, cwd: string): string {
  return source === "." || source.startsWith("./") ? resolvePath(cwd, source) : source;
}

/** `-v ./src:/dst[:mode]` with its host part made absolute (see absoluteBindSource). */
export function absoluteBind(spec: string, cwd: string): string {
  const colon = spec.indexOf(":");
  if (colon < 0) return spec;
  return absoluteBindSource(spec.slice(0, colon), cwd) + spec.slice(colon);
}

/** `--mount type=volume,source=data,target=/data,readonly`. */
export function parseMount(v: string, cwd = "/"): MountSpec {
  const fields: Record<string, string> = {};
  for (const part of v.split(",")) {
    const eq = part.indexOf("=");
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    fields[key] = eq < 0 ? "true" : part.slice(eq + 1);
  }
  const type = fields.type ?? "volume";
  if (type !== "volume" && type !== "bind" && type !== "tmpfs")
    throw invalidArgument(`invalid argument "${v}" for "--mount" flag: unknown mount type: ${type}`);
  const target = fields.target ?? fields.destination ?? fields.dst;
  if (!target) throw invalidArgument(`invalid argument "${v}" for "--mount" flag: target is required`);
  const bool = (x: string | undefined) => x !== undefined && ["true", "1", ""].includes(x);
  const out: MountSpec = { Type: type, Target: target };
  const source = fields.source ?? fields.src;
  if (source) out.Source = type === "bind" ? absoluteBindSource(source, cwd) : source;
  if (bool(fields.readonly) || bool(fields.ro)) out.ReadOnly = true;
  if (type === "volume" && (fields["volume-nocopy"] !== undefined || fields["volume-label"] !== undefined)) {
    out.VolumeOptions = { ...(bool(fields["volume-nocopy"]) ? { NoCopy: true } : {}) };
  }
  if (type === "bind" && fields["bind-propagation"])
    out.BindOptions = { Propagation: fields["bind-propagation"] };
  if (type === "tmpfs") {
    out.TmpfsOptions = {};
    if (fields["tmpfs-size"]) out.TmpfsOptions.SizeBytes = ramInBytes(fields["tmpfs-size"]);
    if (fields["tmpfs-mode"]) out.TmpfsOptions.Mode = Number.parseInt(fields["tmpfs-mode"], 8);
  }
  return out;
}

/**
 * `-p` values as Docker reads them (oci/ports.ts): each container port of a range exposed and
 * bound to its host port, or to the whole host range when one container port is given one
 * (`8080-8090:80`: any free port of the range).
 */
export function parsePublish(values: readonly string[]): {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, PortBinding[]>;
} {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const v of values) {
    const spec = parsePublishSpec(v, { validIp: (ip) => isIP(ip) !== 0 });
    const { container, host } = spec;
    portKeys(container, spec.proto).forEach((key, i) => {
      exposed[key] = {};
      let hp = host ? String(host.start + i) : "";
      if (host && container.start === container.end && host.start !== host.end)
        hp = `${host.start}-${host.end}`;
      const list = bindings[key] ?? [];
      list.push({ HostIp: spec.hostIp, HostPort: hp });
      bindings[key] = list;
    });
  }
  return { exposed, bindings };
}

/**
 * The flags of `create`/`run` as a create request. Long because the request is: one line per
 * flag, in the order of Docker's Config and HostConfig, with the readers of each flag's syntax
 * kept in their own functions.
 */
export function createRequest(
  flags: Flags,
  image: string,
  command: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd = "/",
): ContainerCreateRequest {
  const detach = flags.bool("detach");
  const interactive = flags.bool("interactive");
  const attach = flags.list("attach");
  const ports = parsePublish(flags.list("publish"));
  for (const e of flags.list("expose")) for (const key of exposedPortKeys(e)) ports.exposed[key] = {};
  const host: HostConfig = {
    Binds: flags.list("volume").map((v) => absoluteBind(v, cwd)),
    Mounts: flags.list("mount").map((v) => parseMount(v, cwd)),
    NetworkMode: flags.string("network") ?? flags.string("net") ?? "default",
    PortBindings: ports.bindings,
    PublishAllPorts: flags.bool("publish-all"),
    AutoRemove: flags.bool("rm"),
    Privileged: flags.bool("privileged"),
    ReadonlyRootfs: flags.bool("read-only"),
    CapAdd: flags.list("cap-add"),
    CapDrop: flags.list("cap-drop"),
    SecurityOpt: flags.list("security-opt"),
    GroupAdd: flags.list("group-add"),
    ExtraHosts: flags.list("add-host"),
    Dns: flags.list("dns"),
    DnsSearch: flags.list("dns-search"),
    DnsOptions: flags.list("dns-option"),
    Ulimits: flags.list("ulimit").map(parseUlimit),
    Init: flags.bool("init") ? true : null,
    RestartPolicy: parseRestart(flags.string("restart") ?? "no"),
    LogConfig: { Type: flags.string("log-driver") ?? "", Config: parseLogOpts(flags.list("log-opt")) },
  };
  const tmpfs: Record<string, string> = {};
  for (const t of flags.list("tmpfs")) {
    const i = t.indexOf(":");
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? "" : t.slice(i + 1);
  }
  if (Object.keys(tmpfs).length) host.Tmpfs = tmpfs;
  const sysctls: Record<string, string> = {};
  for (const kv of flags.list("sysctl")) {
    const i = kv.indexOf("=");
    if (i <= 0)
      throw invalidArgument(`invalid argument "${kv}" for "--sysctl" flag: sysctl '${kv}' is not allowed`);
    sysctls[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (Object.keys(sysctls).length) host.Sysctls = sysctls;
  setGiven(host, "Memory", bytes(flags, "memory"));
  setGiven(host, "MemorySwap", bytes(flags, "memory-swap"));
  setGiven(host, "MemoryReservation", bytes(flags, "memory-reservation"));
  setGiven(host, "ShmSize", bytes(flags, "shm-size"));
  setGiven(host, "NanoCpus", nanoCpus(flags));
  setGiven(host, "CpuShares", int(flags, "cpu-shares"));
  setGiven(host, "CpuPeriod", int(flags, "cpu-period"));
  setGiven(host, "CpuQuota", int(flags, "cpu-quota"));
  setGiven(host, "CpusetCpus", flags.string("cpuset-cpus"));
  setGiven(host, "PidsLimit", int(flags, "pids-limit"));
  setGiven(host, "OomScoreAdj", int(flags, "oom-score-adj"));
  for (const ns of ["ipc", "pid", "uts"] as const) {
    const v = flags.string(ns);
    if (v === undefined) continue;
    if (ns === "ipc") host.IpcMode = v;
    else if (ns === "pid") host.PidMode = v;
    else host.UTSMode = v;
  }
  const entrypoint = flags.string("entrypoint");
  const stopTimeout = int(flags, "stop-timeout");
  const req: ContainerCreateRequest = {
    Image: image,
    Cmd: command.length > 0 ? [...command] : null,
    Env: parseEnv(flags.list("env"), flags.list("env-file"), env),
    Labels: parseLabels(flags.list("label"), flags.list("label-file")),
    Tty: flags.bool("tty"),
    OpenStdin: interactive,
    StdinOnce: interactive && !detach,
    AttachStdin: !detach && (interactive || attach.includes("stdin")),
    AttachStdout: !detach && (attach.length === 0 || attach.includes("stdout")),
    AttachStderr: !detach && (attach.length === 0 || attach.includes("stderr")),
    ExposedPorts: Object.keys(ports.exposed).length ? ports.exposed : null,
    HostConfig: host,
  };
  if (entrypoint !== undefined) req.Entrypoint = [entrypoint];
  const user = flags.string("user");
  if (user !== undefined) req.User = user;
  const workdir = flags.string("workdir");
  if (workdir !== undefined) {
    if (!workdir.startsWith("/"))
      throw invalidArgument(`the working directory '${workdir}' is invalid, it needs to be an absolute path`);
    req.WorkingDir = workdir;
  }
  const hostname = flags.string("hostname");
  if (hostname !== undefined) req.Hostname = hostname;
  const ip = flags.string("ip");
  const aliases = flags.list("network-alias");
  if (ip || aliases.length > 0) {
    req.NetworkingConfig = {
      EndpointsConfig: {
        [host.NetworkMode ?? "default"]: {
          ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}),
          ...(aliases.length > 0 ? { Aliases: aliases } : {}),
        },
      },
    };
  }
  const stopSignal = flags.string("stop-signal");
  if (stopSignal !== undefined) req.StopSignal = stopSignal;
  if (stopTimeout !== undefined) req.StopTimeout = stopTimeout;
  const health = healthConfig(flags);
  if (health) req.Healthcheck = health;
  return req;
}

function duration(flags: Flags, name: string): number {
  const v = flags.string(name);
  if (v === undefined) return 0;
  const d = parseGoDurationNs(v);
  if ("error" in d) throw new UsageError(`invalid argument "${v}" for "--${name}" flag: ${d.error}`);
  return d.ns;
}

/** `--health-*` and `--no-healthcheck` as the Docker CLI turns them into a HealthConfig. */
function healthConfig(flags: Flags): ContainerCreateRequest["Healthcheck"] {
  const cmd = flags.string("health-cmd") ?? "";
  const interval = duration(flags, "health-interval");
  const timeout = duration(flags, "health-timeout");
  const startPeriod = duration(flags, "health-start-period");
  const startInterval = duration(flags, "health-start-interval");
  const retries = int(flags, "health-retries") ?? 0;
  const any =
    cmd !== "" ||
    interval !== 0 ||
    timeout !== 0 ||
    startPeriod !== 0 ||
    startInterval !== 0 ||
    retries !== 0;
  if (flags.bool("no-healthcheck")) {
    if (any) throw invalidArgument("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!any) return undefined;
  const negative: Array<[string, number]> = [
    ["--health-interval", interval],
    ["--health-timeout", timeout],
    ["--health-retries", retries],
    ["--health-start-period", startPeriod],
    ["--health-start-interval", startInterval],
  ];
  for (const [name, v] of negative) if (v < 0) throw invalidArgument(`${name} cannot be negative`);
  return {
    ...(cmd !== "" ? { Test: ["CMD-SHELL", cmd] } : {}),
    Interval: interval,
    Timeout: timeout,
    StartPeriod: startPeriod,
    StartInterval: startInterval,
    Retries: retries,
  };
}

/** `--log-opt key=value` pairs, as Docker parses them (a pair without `=` is refused). */
function parseLogOpts(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw invalidArgument(`invalid key value pair format in log options: ${kv}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
