/**
 * A container's HostConfig as Docker's inspect shows it: every key of Docker's Go struct, in its
 * order, with the daemon's defaults (ShmSize 64 MiB, MemorySwap twice Memory, OomKillDisable
 * false, the IPC and cgroup namespace modes) and Go's zero values for the rest, so a template
 * such as `{{.HostConfig.NanoCpus}}` prints `0`, never `<no value>`.
 */
import type { HostConfig } from "../engine/types.js";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "../runtime/spec/generate.js";

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** Docker's zero values, keys in the order of its HostConfig struct (Resources inline). */
function zeroHostConfig(cgroupVersion: 1 | 2): HostConfig {
  return {
    Binds: null,
    ContainerIDFile: "",
    LogConfig: { Type: "k8s-file", Config: {} },
    NetworkMode: "",
    PortBindings: {},
    RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: "",
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: cgroupVersion === 2 ? "private" : "host",
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: "private",
    Cgroup: "",
    Links: null,
    OomScoreAdj: 0,
    PidMode: "",
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: "",
    UsernsMode: "",
    ShmSize: DEFAULT_SHM_SIZE,
    Runtime: "runc",
    Isolation: "",
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: "",
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: "",
    CpusetMems: "",
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: false,
    PidsLimit: null,
    Ulimits: [],
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
  };
}

/** Keys Docker leaves out when empty (`omitempty`), placed where its struct has them. */
const OMIT_EMPTY_AFTER_RESOURCES = ["Mounts"] as const;

/**
 * `hc` completed with Docker's defaults and zero values; keys `hc` sets keep their values, and
 * keys Docker omits when empty (Annotations, StorageOpt, Tmpfs, Sysctls, Mounts, Init) appear
 * only when set.
 */
export function inspectHostConfig(hc: HostConfig, opts: { cgroupVersion: 1 | 2 }): HostConfig {
  const out: Record<string, unknown> = {};
  const given = hc as Record<string, unknown>;
  const set = (k: string, v: unknown) => {
    out[k] = v;
  };
  for (const [k, zero] of Object.entries(zeroHostConfig(opts.cgroupVersion))) {
    const v = given[k];
    set(k, v === undefined || (v === "" && typeof zero === "string" && zero !== "") ? zero : v);
    // Optional keys Docker places right after these ones.
    if (k === "ConsoleSize" && given.Annotations !== undefined) set("Annotations", given.Annotations);
    if (k === "SecurityOpt") {
      for (const o of ["StorageOpt", "Tmpfs"]) if (given[o] !== undefined) set(o, given[o]);
    }
    if (k === "ShmSize" && given.Sysctls !== undefined) set("Sysctls", given.Sysctls);
  }
  for (const k of OMIT_EMPTY_AFTER_RESOURCES) if (given[k] !== undefined) set(k, given[k]);
  // The daemon records its default lists (none for a privileged container).
  const privileged = given.Privileged === true;
  set("MaskedPaths", given.MaskedPaths ?? (privileged ? null : [...DEFAULT_MASKED_PATHS]));
  set("ReadonlyPaths", given.ReadonlyPaths ?? (privileged ? null : [...DEFAULT_READONLY_PATHS]));
  if (given.Init !== undefined && given.Init !== null) set("Init", given.Init);
  // Anything else the record holds (never dropped).
  for (const [k, v] of Object.entries(given)) if (!(k in out) && v !== undefined) set(k, v);
  const result = out as HostConfig;
  if ((result.ShmSize ?? 0) <= 0) result.ShmSize = DEFAULT_SHM_SIZE;
  // The daemon's default swap: twice the memory limit (unless a swap limit or -1 was given).
  if ((result.Memory ?? 0) > 0 && (result.MemorySwap ?? 0) === 0)
    result.MemorySwap = (result.Memory ?? 0) * 2;
  if (result.OomKillDisable === null) result.OomKillDisable = false;
  return result;
}
