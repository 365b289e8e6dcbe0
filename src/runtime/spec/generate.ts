/**
 * `buildRuntimeSpec`: a container's merged configuration → the OCI runtime spec (`config.json`)
 * runc receives, built as moby's daemon builds it for `docker run` (`daemon/pkg/oci/defaults.go`
 * `DefaultLinuxSpec`, then `daemon/oci_linux.go` `createSpec`: common options, cgroups,
 * resources, sysctls, user, devices, rlimits, namespaces, capabilities, seccomp, mounts, OOM
 * score). Pure: the runtime driver gathers every host fact and resolved path first and passes
 * them in `SpecInput`; nothing here touches the host.
 *
 * Lifecycle: the driver resolves the user (`resolveUser` over the rootfs's /etc/passwd and
 * /etc/group), the user mounts (volumes → host directories), the network namespace and the
 * per-container /etc files, then calls `buildRuntimeSpec` once per start and writes
 * `serializeRuntimeSpec(spec)` to `<bundle>/config.json`.
 */
import { failedPrecondition, invalidArgument } from "../../base/errors.js";
import type { ContainerConfig, HostConfig, Ulimit } from "../../engine/types.js";
import { containerCapabilities } from "./capabilities.js";
import { processEnv } from "./env.js";
import {
  decodeSeccompProfile,
  evaluateSeccompProfile,
  kernelAtLeast,
  parseKernelVersion,
} from "./seccomp.js";
import { DEFAULT_SECCOMP_PROFILE } from "./seccomp-default.js";
import {
  OCI_VERSION,
  RLIM_INFINITY,
  type RlimitValue,
  type RuntimeSpec,
  type SpecCpu,
  type SpecDeviceCgroup,
  type SpecMemory,
  type SpecMount,
  type SpecNamespace,
  type SpecResources,
  type SpecRlimit,
  type SpecSeccomp,
} from "./types.js";
import type { ResolvedUser } from "./user.js";

/** Default /dev/shm size: 64 MiB (moby `config.DefaultShmSize`). */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
/** Where `--init` puts the init binary inside the container. */
export const INIT_PATH_IN_CONTAINER = "/sbin/docker-init";
/**
 * The RLIMIT_NOFILE a Docker container gets when `--ulimit nofile` is not given: 1048576 soft and
 * hard (what containerd's unit gives its shims, which the containers inherit).
 */
export const DEFAULT_NOFILE = 1048576;

/** Bind propagation modes (`-v SRC:DST:rshared`, `--mount bind-propagation=`). */
export type MountPropagation = "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave";

/**
 * One user mount, already resolved to the host. The driver converts `HostConfig.Binds`,
 * `HostConfig.Mounts`, the image's anonymous volumes and `HostConfig.Tmpfs` into this list;
 * `buildRuntimeSpec` does not read those HostConfig fields itself.
 */
export type UserMount =
  | {
      /** `-v /host:/ctr`, `--mount type=bind`. */
      type: "bind";
      /** Absolute host path. */
      source: string;
      destination: string;
      readOnly?: boolean;
      /** Default "rprivate" (Docker's default for binds). */
      propagation?: MountPropagation;
      /** `bind-nonrecursive`: "bind" instead of "rbind". */
      nonRecursive?: boolean;
      /** `bind-recursive=readonly-nonrecursive`: plain "ro" even where "rro" is available. */
      readOnlyNonRecursive?: boolean;
    }
  | {
      /** A named or anonymous volume; `source` is the volume's host directory (`…/_data`). */
      type: "volume";
      source: string;
      destination: string;
      readOnly?: boolean;
    }
  | {
      /** `--tmpfs DST[:OPTS]` or `--mount type=tmpfs`. */
      type: "tmpfs";
      destination: string;
      /**
       * The raw options, e.g. `["rw", "size=64m", "exec"]` (`--tmpfs /run:rw,size=64m,exec`
       * split on commas); see `tmpfsOptionsFromMountSpec` for `--mount`. Docker prepends
       * noexec,nosuid,nodev,rprivate and keeps the last of conflicting flags.
       */
      options?: string[];
    };

/** The network namespace the container gets. */
export type NetworkNamespace =
  /** A fresh, empty namespace created by runc (`--network none`). */
  | { kind: "new" }
  /** The host's namespace (`--network host`): no network namespace entry at all. */
  | { kind: "host" }
  /** Join an existing namespace, e.g. one a CNI plugin configured (`/var/run/netns/…`). */
  | { kind: "path"; path: string };

/** Facts about the host that the spec depends on; the driver gathers them. */
export interface HostFacts {
  /** `uname -r`, e.g. "6.1.0-18-amd64". */
  kernelVersion: string;
  /** GOARCH/OCI name: "amd64", "arm64", … */
  architecture: string;
  /**
   * Capabilities available to the engine (the CapBnd of /proc/self/status decoded with
   * `capabilitiesFromMask`): what `--privileged` and `--cap-add ALL` grant, and what
   * `--cap-add` may name.
   */
  capabilities: readonly string[];
  /** Whether the runtime (runc ≥ 1.2, `runc features`) and kernel (≥ 5.6) do time namespaces. */
  timeNamespace: boolean;
  /** 1 for cgroup v1 or hybrid, 2 for the unified hierarchy. */
  cgroupVersion: 1 | 2;
  /** The `/sys/devices/system/cpu/cpuN/thermal_throttle` paths that exist, in CPU order. */
  thermalThrottlePaths: readonly string[];
  /**
   * Hard rlimits of the engine process, by lowercase name ("nofile", "nproc", …);
   * RLIM_INFINITY for unlimited. Every rlimit the spec sets is clamped to these: without
   * CAP_SYS_RESOURCE runc cannot raise a hard limit.
   */
  rlimitHard: { nofile: RlimitValue; nproc?: RlimitValue } & Partial<Record<string, RlimitValue>>;
  /** Whether read-only binds can be recursive ("rro": kernel ≥ 5.12 and listed by `runc features`). Default false. */
  recursiveReadOnly?: boolean;
  /** Whether the kernel has seccomp. Default true. */
  seccomp?: boolean;
  /** Whether the memory cgroup can limit swap (v1: memory.memsw.* exists). Default true. */
  swapLimit?: boolean;
}

/** Everything `buildRuntimeSpec` needs. */
export interface SpecInput {
  /**
   * The container's Config, already merged with the image config as Docker merges it:
   * Entrypoint from `--entrypoint` else the image's; Cmd from the command line, else the
   * image's Cmd when no `--entrypoint` was given; Env = image Env overridden by `-e`; User,
   * WorkingDir, Hostname likewise. Process args = Entrypoint ++ Cmd (an Entrypoint of [""] counts as none).
   */
  config: ContainerConfig;
  /** The container's HostConfig (defaults not yet applied: ShmSize 0 = 64 MiB, etc.). */
  hostConfig: HostConfig;
  /** From `resolveUser(config.User, files, hostConfig.GroupAdd)`. */
  user: ResolvedUser;
  /** Absolute path of the mounted rootfs (overlay merged directory). */
  rootfs: string;
  /** User mounts resolved to host sources (see UserMount). */
  mounts: readonly UserMount[];
  network: NetworkNamespace;
  /** Namespaces to join for `--pid container:X` / `--ipc container:X` (`/proc/PID/ns/pid`, …). */
  joinNamespaces?: { pid?: string; ipc?: string };
  /** Per-container files bind-mounted at /etc/resolv.conf, /etc/hostname, /etc/hosts. */
  networkFiles?: { resolvConf?: string; hostname?: string; hosts?: string };
  /** Host path of the init binary (tini / docker-init); needed when HostConfig.Init is true. */
  initPath?: string;
  /** `linux.cgroupsPath` (e.g. "/berth/<id>" or "system.slice:berth:<id>"). */
  cgroupsPath: string;
  host: HostFacts;
}

export interface SpecResult {
  spec: RuntimeSpec;
  /** Things adjusted on the way (clamped rlimits, unsupported limits dropped), for the user. */
  warnings: string[];
}

/** Builds the OCI runtime spec; see `planRuntimeSpec` for the warnings too. */
export function buildRuntimeSpec(input: SpecInput): RuntimeSpec {
  return planRuntimeSpec(input).spec;
}

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
];
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

function defaultMounts(): SpecMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["ro", "nosuid", "noexec", "nodev"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777"],
    },
  ];
}

function defaultDeviceCgroup(): SpecDeviceCgroup[] {
  const allow = (major: number, minor: number): SpecDeviceCgroup => ({
    allow: true,
    type: "c",
    major,
    minor,
    access: "rwm",
  });
  return [
    { allow: false, access: "rwm" },
    allow(1, 5),
    allow(1, 3),
    allow(1, 9),
    allow(1, 8),
    allow(5, 0),
    allow(5, 1),
    { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
  ];
}

/** Docker's mode strings: "host", "container:<id>", "private", "" … */
function modeKind(mode: string | undefined): "host" | "container" | "none" | "default" {
  if (mode === "host") return "host";
  if (mode?.startsWith("container:")) return "container";
  if (mode === "none") return "none";
  return "default";
}

/** Builds the spec and reports the adjustments it made. */
export function planRuntimeSpec(input: SpecInput): SpecResult {
  const { config, hostConfig: hc, host } = input;
  const warnings: string[] = [];
  parseKernelVersion(host.kernelVersion);

  // ---- security options (moby parseSecurityOpt) ----
  const security = parseSecurityOptions(hc.SecurityOpt ?? []);

  // ---- process ----
  const entrypoint =
    config.Entrypoint && !(config.Entrypoint.length === 1 && config.Entrypoint[0] === "")
      ? config.Entrypoint
      : [];
  let args = [...entrypoint, ...(config.Cmd ?? [])];
  if (args.length === 0) throw invalidArgument("no command specified");

  const pidMode = modeKind(hc.PidMode);
  const mounts = defaultMounts();
  const initEnabled = hc.Init === true && pidMode !== "host" && pidMode !== "container";
  if (initEnabled) {
    if (!input.initPath)
      throw failedPrecondition("--init was requested but no init binary (docker-init) is available");
    args = [INIT_PATH_IN_CONTAINER, "--", ...args];
    mounts.push({
      destination: INIT_PATH_IN_CONTAINER,
      type: "bind",
      source: input.initPath,
      options: ["bind", "ro"],
    });
  }

  const hostname = hc.UTSMode === "host" ? "" : (config.Hostname ?? "");
  const env = processEnv({
    hostname: config.Hostname ?? "",
    tty: !!config.Tty,
    layers: [config.Env ?? []],
    home: input.user.home,
  });
  const capabilities = containerCapabilities({
    capAdd: hc.CapAdd,
    capDrop: hc.CapDrop,
    privileged: hc.Privileged === true,
    available: host.capabilities,
  });

  // ---- linux ----
  const sysctl: Record<string, string> = {};
  if (config.Domainname) sysctl["kernel.domainname"] = config.Domainname;
  // Only for a network namespace of the container's own (not host, not another container's).
  if (input.network.kind !== "host" && modeKind(hc.NetworkMode) !== "container") {
    sysctl["net.ipv4.ping_group_range"] = "0 2147483647";
    if (kernelAtLeast(host.kernelVersion, "4.11")) sysctl["net.ipv4.ip_unprivileged_port_start"] = "0";
  }
  for (const [k, v] of Object.entries(hc.Sysctls ?? {})) sysctl[k] = v;

  const resources = buildResources(hc, host, warnings);
  if (hc.Privileged) resources.devices = [{ allow: true, access: "rwm" }];
  const namespaces = buildNamespaces(input);
  const rlimits = buildRlimits(hc.Ulimits ?? [], host, warnings);
  const seccomp = buildSeccomp(security.seccomp, hc.Privileged === true, capabilities, host, warnings);

  const linuxMounts = buildMounts(mounts, input, security.writableCgroups);

  const spec: RuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      ...(config.Tty ? { terminal: true } : {}),
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids.length > 0 ? { additionalGids: [...input.user.additionalGids] } : {}),
      },
      args,
      env,
      cwd: config.WorkingDir ? config.WorkingDir : "/",
      capabilities: {
        bounding: [...capabilities],
        effective: [...capabilities],
        permitted: [...capabilities],
      },
      ...(rlimits.length > 0 ? { rlimits } : {}),
      ...(security.noNewPrivileges ? { noNewPrivileges: true } : {}),
      oomScoreAdj: hc.OomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, ...(hc.ReadonlyRootfs ? { readonly: true } : {}) },
    ...(hostname ? { hostname } : {}),
    mounts: linuxMounts,
    linux: {
      ...(Object.keys(sysctl).length > 0 ? { sysctl } : {}),
      resources,
      cgroupsPath: input.cgroupsPath,
      namespaces,
      ...(seccomp ? { seccomp } : {}),
      ...maskedAndReadonly(hc, host),
    },
  };
  if (spec.process.capabilities.bounding?.length === 0) spec.process.capabilities = {};
  return { spec, warnings };
}

// ---- env ----

// ---- security options ----

interface SecurityOptions {
  noNewPrivileges: boolean;
  /** undefined: the default profile; "unconfined"; "builtin"; or a profile's JSON. */
  seccomp?: string;
  writableCgroups?: boolean;
}

function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

/** moby `parseSecurityOpt`, for the options that change the spec (label/apparmor accepted, ignored). */
export function parseSecurityOptions(options: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false };
  for (const opt of options) {
    if (opt === "no-new-privileges") {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === "writable-cgroups") {
      out.writableCgroups = true;
      continue;
    }
    if (opt === "disable") continue;
    let sep = opt.indexOf("=");
    if (sep < 0) sep = opt.indexOf(":");
    if (sep < 0) throw invalidArgument(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const k = opt.slice(0, sep);
    const v = opt.slice(sep + 1);
    switch (k) {
      case "label":
      case "apparmor":
        break;
      case "seccomp":
        out.seccomp = v;
        break;
      case "no-new-privileges":
      case "writable-cgroups": {
        const b = parseBool(v);
        if (b === undefined) throw invalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        if (k === "no-new-privileges") out.noNewPrivileges = b;
        else out.writableCgroups = b;
        break;
      }
      default:
        throw invalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

/** moby `WithSeccomp`. */
function buildSeccomp(
  profile: string | undefined,
  privileged: boolean,
  capabilities: readonly string[],
  host: HostFacts,
  warnings: string[],
): SpecSeccomp | undefined {
  if (profile === "unconfined") return undefined;
  const custom = profile !== undefined && profile !== "" && profile !== "builtin";
  const context = { architecture: host.architecture, kernelVersion: host.kernelVersion, capabilities };
  if (privileged) return custom ? evaluateSeccompProfile(decodeSeccompProfile(profile), context) : undefined;
  if (host.seccomp === false) {
    if (custom)
      throw failedPrecondition("seccomp is not enabled in your kernel, cannot run a custom seccomp profile");
    warnings.push("seccomp is not enabled in your kernel, running container without default profile");
    return undefined;
  }
  return evaluateSeccompProfile(custom ? decodeSeccompProfile(profile) : DEFAULT_SECCOMP_PROFILE, context);
}

// ---- namespaces ----

/** DefaultLinuxSpec order (mount, network, time, uts, pid, ipc) edited as `WithNamespaces`. */
function buildNamespaces(input: SpecInput): SpecNamespace[] {
  const hc = input.hostConfig;
  const ns: SpecNamespace[] = [{ type: "mount" }];
  if (input.network.kind === "path") ns.push({ type: "network", path: input.network.path });
  else if (input.network.kind === "new") ns.push({ type: "network" });
  if (input.host.timeNamespace) ns.push({ type: "time" });
  if (hc.UTSMode !== "host") ns.push({ type: "uts" });

  const pid = modeKind(hc.PidMode);
  if (pid === "container") {
    if (!input.joinNamespaces?.pid) throw invalidArgument(`no PID namespace path given for ${hc.PidMode}`);
    ns.push({ type: "pid", path: input.joinNamespaces.pid });
  } else if (pid !== "host") {
    if (hc.PidMode && hc.PidMode !== "private") throw invalidArgument(`invalid PID mode: ${hc.PidMode}`);
    ns.push({ type: "pid" });
  }

  const ipc = modeKind(hc.IpcMode);
  if (ipc === "container") {
    if (!input.joinNamespaces?.ipc) throw invalidArgument(`no IPC namespace path given for ${hc.IpcMode}`);
    ns.push({ type: "ipc", path: input.joinNamespaces.ipc });
  } else if (ipc !== "host") {
    if (hc.IpcMode && !["private", "shareable", "none"].includes(hc.IpcMode)) {
      throw invalidArgument(`invalid IPC mode: ${hc.IpcMode}`);
    }
    ns.push({ type: "ipc" });
  }

  if (hc.UTSMode && hc.UTSMode !== "host") throw invalidArgument(`invalid UTS mode: ${hc.UTSMode}`);

  // Cgroup namespace: daemon default "private" on v2, "host" on v1; privileged on v1 → host.
  let cgroupns = hc.CgroupnsMode ?? "";
  if (cgroupns === "") {
    cgroupns = input.host.cgroupVersion === 2 ? "private" : "host";
  }
  if (cgroupns !== "private" && cgroupns !== "host")
    throw invalidArgument(`invalid cgroup namespace mode: ${cgroupns}`);
  if (cgroupns === "private") ns.push({ type: "cgroup" });
  return ns;
}

// ---- resources ----

const MIN_MEMORY = 6 * 1024 * 1024;

function buildResources(hc: HostConfig, host: HostFacts, warnings: string[]): SpecResources {
  const memory: SpecMemory = {};
  const mem = hc.Memory ?? 0;
  let swap = hc.MemorySwap ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) throw invalidArgument("Minimum memory limit allowed is 6MB");
  if (mem > 0 && swap === 0) swap = mem * 2;
  if (mem > 0 && swap !== -1 && host.swapLimit === false) {
    warnings.push(
      "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.",
    );
    swap = -1;
  }
  if (mem > 0 && swap > 0 && swap < mem) {
    throw invalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (mem === 0 && swap > 0) {
    throw invalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage");
  }
  if (mem > 0) memory.limit = mem;
  const reservation = hc.MemoryReservation ?? 0;
  if (reservation > 0) memory.reservation = reservation;
  if (swap > 0) memory.swap = swap;
  const swappiness = hc.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1) {
    if (swappiness < 0 || swappiness > 100) {
      throw invalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
    }
    if (host.cgroupVersion === 2) {
      warnings.push(
        "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.",
      );
    } else memory.swappiness = swappiness;
  }
  if (host.cgroupVersion === 1) memory.disableOOMKiller = hc.OomKillDisable ?? false;
  else if (hc.OomKillDisable)
    warnings.push("Your kernel does not support OomKillDisable. OomKillDisable discarded.");

  const cpu: SpecCpu = {};
  const nano = hc.NanoCpus ?? 0;
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0)
    throw invalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0)
    throw invalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (nano < 0)
    throw invalidArgument("Range of CPUs is from 0.01 to the number of CPUs available on the machine");
  const shares = hc.CpuShares ?? 0;
  if (shares < 0) throw invalidArgument(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (shares !== 0) cpu.shares = shares;
  if (nano > 0) {
    cpu.quota = Math.trunc((nano * 100000) / 1e9);
    cpu.period = 100000;
  }
  if ((hc.CpuPeriod ?? 0) !== 0) cpu.period = hc.CpuPeriod;
  if ((hc.CpuQuota ?? 0) !== 0) cpu.quota = hc.CpuQuota;
  if ((hc.CpuRealtimeRuntime ?? 0) !== 0) cpu.realtimeRuntime = hc.CpuRealtimeRuntime;
  if ((hc.CpuRealtimePeriod ?? 0) !== 0) cpu.realtimePeriod = hc.CpuRealtimePeriod;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  // Go's struct order: shares, quota, period, realtimeRuntime, realtimePeriod, cpus, mems.
  const orderedCpu: SpecCpu = {};
  for (const k of [
    "shares",
    "quota",
    "period",
    "realtimeRuntime",
    "realtimePeriod",
    "cpus",
    "mems",
  ] as const) {
    const v = cpu[k];
    if (v !== undefined) Object.assign(orderedCpu, { [k]: v });
  }

  const resources: SpecResources = { devices: defaultDeviceCgroup(), blockIO: {} };
  if (Object.keys(memory).length > 0) resources.memory = memory;
  if (Object.keys(orderedCpu).length > 0) resources.cpu = orderedCpu;
  const pids = hc.PidsLimit;
  if (pids !== undefined && pids !== null) resources.pids = { limit: pids <= 0 ? -1 : pids };
  // Go field order: devices, memory, cpu, blockIO, pids.
  return {
    devices: resources.devices,
    ...(resources.memory ? { memory: resources.memory } : {}),
    ...(resources.cpu ? { cpu: resources.cpu } : {}),
    blockIO: {},
    ...(resources.pids ? { pids: resources.pids } : {}),
  };
}

// ---- rlimits ----

/** The names `--ulimit` accepts (docker/go-units `ulimitNameMapping`). */
const ULIMIT_NAMES = [
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
];

function rlimitValue(v: number): RlimitValue {
  return v < 0 ? RLIM_INFINITY : v;
}

function minValue(a: RlimitValue, b: RlimitValue): RlimitValue {
  return BigInt(a) <= BigInt(b) ? a : b;
}

/**
 * moby `withRlimits` (HostConfig.Ulimits → RLIMIT_*), plus Docker's RLIMIT_NOFILE (soft = hard)
 * within the host's hard limit when not given, and every hard limit clamped to the host's (soft
 * to the hard).
 */
function buildRlimits(ulimits: readonly Ulimit[], host: HostFacts, warnings: string[]): SpecRlimit[] {
  const out: SpecRlimit[] = [];
  const named = new Set<string>();
  const all: Array<{ name: string; soft: RlimitValue; hard: RlimitValue }> = [];
  for (const ul of ulimits) {
    const name = ul.Name.toLowerCase();
    if (!ULIMIT_NAMES.includes(name)) throw invalidArgument(`invalid ulimit type: ${ul.Name}`);
    const soft = rlimitValue(ul.Soft);
    const hard = rlimitValue(ul.Hard);
    if (BigInt(soft) > BigInt(hard)) {
      throw invalidArgument(
        `ulimit soft limit must be less than or equal to hard limit: ${ul.Soft} > ${ul.Hard}`,
      );
    }
    named.add(name);
    all.push({ name, soft, hard });
  }
  if (!named.has("nofile")) {
    const n = minValue(DEFAULT_NOFILE, host.rlimitHard.nofile);
    all.push({ name: "nofile", soft: n, hard: n });
  }
  for (const r of all) {
    let { soft, hard } = r;
    const limit = host.rlimitHard[r.name];
    if (limit !== undefined && BigInt(hard) > BigInt(limit)) {
      warnings.push(`ulimit ${r.name}: hard limit ${hard} lowered to the host's hard limit ${limit}`);
      hard = limit;
    }
    if (BigInt(soft) > BigInt(hard)) soft = hard;
    out.push({ type: `RLIMIT_${r.name.toUpperCase()}`, hard, soft });
  }
  return out;
}

// ---- mounts ----

interface PlannedMount {
  destination: string;
  kind: "bind" | "tmpfs";
  source: string;
  writable: boolean;
  propagation: MountPropagation | "";
  nonRecursive: boolean;
  readOnlyNonRecursive: boolean;
  data: string[];
}

function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join("/")}`;
}

/** moby `sortMounts`: by the number of "/" in the cleaned destination, stable. */
function depth(destination: string): number {
  return cleanPath(destination).split("/").length - 1;
}

function sortByDepth<T extends { destination: string }>(list: T[]): T[] {
  return list
    .map((m, i) => ({ m, i, d: depth(m.destination) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.m);
}

const TMPFS_FLAG_KEYS: Readonly<Record<string, string>> = {
  ro: "rdonly",
  rw: "rdonly",
  suid: "nosuid",
  nosuid: "nosuid",
  dev: "nodev",
  nodev: "nodev",
  exec: "noexec",
  noexec: "noexec",
  sync: "sync",
  async: "sync",
  dirsync: "dirsync",
  remount: "remount",
  mand: "mand",
  nomand: "mand",
  atime: "noatime",
  noatime: "noatime",
  diratime: "nodiratime",
  nodiratime: "nodiratime",
  bind: "propagation",
  rbind: "propagation",
  unbindable: "propagation",
  runbindable: "propagation",
  private: "propagation",
  rprivate: "propagation",
  shared: "propagation",
  rshared: "propagation",
  slave: "propagation",
  rslave: "propagation",
  relatime: "relatime",
  norelatime: "relatime",
  strictatime: "strictatime",
  nostrictatime: "strictatime",
};
const TMPFS_DATA_KEYS = ["", "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"];

/** moby/sys/mount `MergeTmpfsOptions`: the last of conflicting options wins, order kept. */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const option = options[i] ?? "";
    if (option === "defaults") continue;
    const flagKey = TMPFS_FLAG_KEYS[option];
    if (flagKey !== undefined) {
      if (!seenFlags.has(flagKey)) {
        out.unshift(option);
        seenFlags.add(flagKey);
      }
      continue;
    }
    const eq = option.indexOf("=");
    const key = eq < 0 ? option : option.slice(0, eq);
    if (eq < 0 || !TMPFS_DATA_KEYS.includes(key))
      throw invalidArgument(`invalid tmpfs option ${JSON.stringify(key)}`);
    if (!seenData.has(key)) {
      out.unshift(option);
      seenData.add(key);
    }
  }
  return out;
}

/**
 * The options Docker derives from `--mount type=tmpfs,…` (moby `ConvertTmpfsOptions`):
 * "ro" when read-only, `mode=<octal>`, `size=<n>[g|m|k]` with the largest unit dividing it.
 */
export function tmpfsOptionsFromMountSpec(spec: {
  ReadOnly?: boolean;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}): string[] {
  const out: string[] = [];
  if (spec.ReadOnly) out.push("ro");
  const mode = spec.TmpfsOptions?.Mode ?? 0;
  if (mode !== 0) out.push(`mode=${mode.toString(8)}`);
  const size = spec.TmpfsOptions?.SizeBytes ?? 0;
  if (size !== 0) {
    let text = String(size);
    for (const [suffix, div] of [
      ["g", 2 ** 30],
      ["m", 2 ** 20],
      ["k", 2 ** 10],
    ] as const) {
      if (size % div === 0) {
        text = `${size / div}${suffix}`;
        break;
      }
    }
    out.push(`size=${text}`);
  }
  return out;
}

/** moby `setupMounts` + `withMounts`: default mounts filtered, user mounts appended. */
/*
 * Long on purpose: it follows moby's setupMounts/withMounts step by step (user mounts checked, tmpfs
 * over binds, the network files, /dev/shm, sorting by depth, default mounts dropped where a user
 * mount covers them, the read-only root, writable cgroups), to be read beside moby's in one place.
 */
function buildMounts(
  base: SpecMount[],
  input: SpecInput,
  writableCgroupsOpt: boolean | undefined,
): SpecMount[] {
  const hc = input.hostConfig;
  const readonlyRoot = hc.ReadonlyRootfs === true;
  const networkDest: Record<string, string | undefined> = {
    "/etc/resolv.conf": input.networkFiles?.resolvConf,
    "/etc/hostname": input.networkFiles?.hostname,
    "/etc/hosts": input.networkFiles?.hosts,
  };

  const binds: PlannedMount[] = [];
  const tmpfs: PlannedMount[] = [];
  const overriddenNetwork = new Map<string, { source: string; writable: boolean }>();
  for (const m of input.mounts) {
    if (!m.destination.startsWith("/"))
      throw invalidArgument(`invalid mount config: mount path must be absolute: ${m.destination}`);
    if (m.type === "tmpfs") {
      tmpfs.push({
        destination: m.destination,
        kind: "tmpfs",
        source: "tmpfs",
        writable: true,
        propagation: "",
        nonRecursive: false,
        readOnlyNonRecursive: false,
        data: m.options ?? [],
      });
      continue;
    }
    if (cleanPath(m.destination) in networkDest) {
      overriddenNetwork.set(cleanPath(m.destination), { source: m.source, writable: m.readOnly !== true });
      continue;
    }
    binds.push({
      destination: m.destination,
      kind: "bind",
      source: m.source,
      writable: m.readOnly !== true,
      propagation: m.type === "bind" ? (m.propagation ?? "rprivate") : "",
      nonRecursive: m.type === "bind" && m.nonRecursive === true,
      readOnlyNonRecursive: m.type === "bind" && m.readOnlyNonRecursive === true,
      data: [],
    });
  }
  const tmpfsDests = new Set(tmpfs.map((t) => t.destination));
  // A tmpfs mount wins over a volume/bind at the same destination (moby setupMounts).
  const planned: PlannedMount[] = sortByDepth(binds.filter((b) => !tmpfsDests.has(b.destination)));
  for (const dest of ["/etc/resolv.conf", "/etc/hostname", "/etc/hosts"]) {
    const user = overriddenNetwork.get(dest);
    const source = user?.source ?? networkDest[dest];
    if (source === undefined) continue;
    planned.push({
      destination: dest,
      kind: "bind",
      source,
      writable: user ? user.writable : !readonlyRoot,
      propagation: "rprivate",
      nonRecursive: false,
      readOnlyNonRecursive: false,
      data: [],
    });
  }
  const hasShm = planned.some((m) => m.destination === "/dev/shm") || tmpfsDests.has("/dev/shm");
  if (hc.IpcMode === "host" && !hasShm) {
    planned.push({
      destination: "/dev/shm",
      kind: "bind",
      source: "/dev/shm",
      writable: true,
      propagation: "rprivate",
      nonRecursive: false,
      readOnlyNonRecursive: false,
      data: [],
    });
  }
  planned.push(...tmpfs);
  const userMounts = sortByDepth(planned);
  const userDests = new Set(userMounts.map((m) => m.destination));

  const out: SpecMount[] = [];
  const mountDev = userDests.has("/dev");
  for (const m of base) {
    if (userDests.has(m.destination)) continue;
    if (mountDev && m.destination.startsWith("/dev/")) continue;
    if (m.destination === "/dev/shm") {
      if (hc.IpcMode === "none") continue;
      const size = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
      out.push({ ...m, options: [...(m.options ?? []), `size=${size}`] });
      continue;
    }
    out.push(m);
  }
  for (const m of userMounts) {
    if (m.kind === "tmpfs") {
      out.push({
        destination: m.destination,
        type: "tmpfs",
        source: "tmpfs",
        options: mergeTmpfsOptions(["noexec", "nosuid", "nodev", "rprivate", ...m.data]),
      });
      continue;
    }
    const options = [m.nonRecursive ? "bind" : "rbind"];
    if (!m.writable) options.push(input.host.recursiveReadOnly && !m.readOnlyNonRecursive ? "rro" : "ro");
    if (m.propagation !== "") options.push(m.propagation);
    out.push({ destination: m.destination, type: "bind", source: m.source, options });
  }

  if (readonlyRoot) {
    for (const m of out) {
      if (["/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"].includes(m.destination)) continue;
      if (userDests.has(m.destination)) continue;
      if (!m.options?.includes("ro")) m.options = [...(m.options ?? []), "ro"];
    }
  }
  const clearRo = (m: SpecMount) => {
    const options = (m.options ?? []).filter((o) => o !== "ro");
    if (options.length > 0) m.options = options;
    else delete m.options;
  };
  if (hc.Privileged) for (const m of out) if (m.destination === "/sys") clearRo(m);
  const writableCgroups = writableCgroupsOpt ?? hc.Privileged === true;
  if (writableCgroups) for (const m of out) if (m.type === "cgroup") clearRo(m);
  return out;
}

/** Masked and read-only paths: defaults (+ thermal_throttle), none when privileged, HostConfig overrides. */
function maskedAndReadonly(
  hc: HostConfig,
  host: HostFacts,
): { maskedPaths?: string[]; readonlyPaths?: string[] } {
  let masked: string[] = hc.Privileged ? [] : [...DEFAULT_MASKED_PATHS, ...host.thermalThrottlePaths];
  let readonly: string[] = hc.Privileged ? [] : [...DEFAULT_READONLY_PATHS];
  if (hc.MaskedPaths !== undefined && hc.MaskedPaths !== null) masked = [...hc.MaskedPaths];
  if (hc.ReadonlyPaths !== undefined && hc.ReadonlyPaths !== null) readonly = [...hc.ReadonlyPaths];
  return {
    ...(masked.length > 0 ? { maskedPaths: masked } : {}),
    ...(readonly.length > 0 ? { readonlyPaths: readonly } : {}),
  };
}
