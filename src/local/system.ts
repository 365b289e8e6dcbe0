/**
 * `info` and `version` of the local engine: the store's counts, the host's kernel, cgroups and
 * limits, in the Docker API's SystemInfo and SystemVersion shapes.
 * It only reads (the store's counts, the host's files); it never changes anything.
 */
import { existsSync } from "node:fs";
import { arch, cpus, hostname, release, totalmem } from "node:os";
import { API_VERSION, MIN_API_VERSION } from "../engine/api-version.js";
import type { ContainerSummary, SystemInfo, SystemVersion } from "../engine/types.js";
import type { HostFacts } from "../runtime/spec/generate.js";
import { readTextIfExistsSync } from "../sys/fs.js";

/** Docker's names for Node's architectures (GOARCH). */
function goArch(): string {
  const a = arch();
  return a === "x64" ? "amd64" : a === "ia32" ? "386" : a;
}

/** `uname -m`, which `info` prints as Architecture. */
function machine(): string {
  const a = arch();
  return a === "x64" ? "x86_64" : a === "arm64" ? "aarch64" : a;
}

function osRelease(key: string): string {
  const text = readTextIfExistsSync("/etc/os-release") ?? "";
  return new RegExp(`^${key}="?([^"\\n]*)"?$`, "m").exec(text)?.[1] ?? "";
}

function readFlag(path: string): boolean {
  return readTextIfExistsSync(path)?.trim() === "1";
}

function exists(path: string): boolean {
  return existsSync(path);
}

export interface InfoInputs {
  readonly containers: readonly ContainerSummary[];
  readonly images: number;
  readonly root: string;
  readonly version: string;
  readonly host: HostFacts;
  readonly insecureRegistries: readonly string[];
}

/**
 * `/info` as dockerd answers it: one object literal in the swagger's field order, the counts and
 * host probes it needs computed just above it; long because the answer has that many fields.
 */
export function systemInfo(i: InfoInputs): SystemInfo {
  const count = (...states: string[]) => i.containers.filter((c) => states.includes(c.State)).length;
  const v2 = i.host.cgroupVersion === 2;
  const cg = (v1: string, v2path: string) => exists(v2 ? `/sys/fs/cgroup/${v2path}` : `/sys/fs/cgroup/${v1}`);
  const warnings: string[] = [];
  if (i.host.swapLimit !== true) warnings.push("WARNING: No swap limit support");
  const bridgeNf = readFlag("/proc/sys/net/bridge/bridge-nf-call-iptables");
  const bridgeNf6 = readFlag("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
  return {
    ID: "",
    Containers: i.containers.length,
    ContainersRunning: count("running", "restarting"),
    ContainersPaused: count("paused"),
    ContainersStopped: count("created", "exited", "dead", "removing"),
    Images: i.images,
    Driver: "overlay",
    DriverStatus: [
      ["Backing Filesystem", "overlayfs"],
      ["Supports d_type", "true"],
    ],
    DockerRootDir: i.root,
    Plugins: {
      Volume: ["local"],
      Network: ["bridge", "host", "null"],
      Authorization: null,
      Log: ["k8s-file", "json-file", "none"],
    },
    MemoryLimit: cg("memory/memory.limit_in_bytes", "cgroup.controllers"),
    SwapLimit: i.host.swapLimit === true,
    KernelMemoryTCP: !v2 && exists("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes"),
    CpuCfsPeriod: cg("cpu/cpu.cfs_period_us", "cgroup.controllers"),
    CpuCfsQuota: cg("cpu/cpu.cfs_quota_us", "cgroup.controllers"),
    CPUShares: cg("cpu/cpu.shares", "cgroup.controllers"),
    CPUSet: cg("cpuset/cpuset.cpus", "cgroup.controllers"),
    PidsLimit: cg("pids/pids.max", "cgroup.controllers"),
    OomKillDisable: !v2,
    IPv4Forwarding: readFlag("/proc/sys/net/ipv4/ip_forward"),
    BridgeNfIptables: bridgeNf,
    BridgeNfIp6tables: bridgeNf6,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "k8s-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: String(i.host.cgroupVersion),
    NEventsListener: 0,
    KernelVersion: release(),
    OperatingSystem: osRelease("PRETTY_NAME") || "Linux",
    OSVersion: osRelease("VERSION_ID"),
    OSType: "linux",
    Architecture: machine(),
    NCPU: cpus().length,
    MemTotal: totalmem(),
    IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: null,
      AllowNondistributableArtifactsHostnames: null,
      InsecureRegistryCIDRs: ["127.0.0.0/8", ...i.insecureRegistries.filter((r) => r.includes("/"))],
      IndexConfigs: {
        "docker.io": { Name: "docker.io", Mirrors: [], Secure: true, Official: true },
        ...Object.fromEntries(
          i.insecureRegistries
            .filter((r) => !r.includes("/"))
            .map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }]),
        ),
      },
      Mirrors: [],
    },
    GenericResources: null,
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? "",
    HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? "",
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? "",
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: i.version,
    Runtimes: { runc: { path: "runc" } },
    DefaultRuntime: "runc",
    Swarm: {
      NodeID: "",
      NodeAddr: "",
      LocalNodeState: "inactive",
      ControlAvailable: false,
      Error: "",
      RemoteManagers: null,
    },
    LiveRestoreEnabled: false,
    Isolation: "",
    InitBinary: "tini-static",
    ContainerdCommit: { ID: "" },
    RuncCommit: { ID: "" },
    InitCommit: { ID: "" },
    SecurityOptions: [
      ...(i.host.seccomp ? ["name=seccomp,profile=builtin"] : []),
      ...(v2 ? ["name=cgroupns"] : []),
    ],
    CDISpecDirs: [],
    Warnings: warnings.length > 0 ? warnings : null,
  };
}

export function systemVersion(version: string): SystemVersion {
  // What Docker reports both for the whole and for its Engine component.
  const build = {
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: "",
    GoVersion: process.version,
    Os: "linux",
    Arch: goArch(),
    KernelVersion: release(),
  };
  const details = { ...build, Experimental: "false", BuildTime: "" };
  return {
    Platform: { Name: "berth" },
    Components: [{ Name: "Engine", Version: version, Details: details }],
    Version: version,
    ...build,
    BuildTime: "",
  };
}
