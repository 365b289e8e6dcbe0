/**
 * The body of POST /containers/create decoded strictly into ContainerCreateRequest: every field
 * berth implements is type-checked (400 naming the field); Docker fields berth does not implement
 * are accepted only at their zero value (what the docker CLI sends when the flag is not used) and
 * refused with "not supported" otherwise; fields neither knows are ignored, as Docker's decoder does.
 */
import { invalidArgument } from "../../base/errors.js";
import type {
  ContainerCreateRequest,
  EndpointSettings,
  HostConfig,
  MountSpec,
  NetworkingConfig,
  PortBinding,
} from "../../engine/types.js";
import { Fields } from "../decode.js";

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** A value Docker's CLI sends for an unused flag: absent, null, 0, "", false, [] or {}. */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === 0 || v === "" || v === false) return true;
  if (Array.isArray(v)) return v.every(isZero);
  if (typeof v === "object") return Object.values(v).every(isZero);
  return false;
}

function refuseUnlessZero(f: Fields, names: readonly string[]): void {
  for (const n of names) {
    if (!isZero(f.raw(n))) throw invalidArgument(`${f.at(n)} is not supported by berth`);
  }
}

function refuseUnlessOneOf(f: Fields, name: string, allowed: readonly string[]): void {
  const v = f.string(name);
  if (v !== undefined && !allowed.includes(v)) {
    throw invalidArgument(`${f.at(name)} ${JSON.stringify(v)} is not supported by berth`);
  }
}

function healthcheck(f: Fields | undefined): ContainerCreateRequest["Healthcheck"] {
  if (!f) return undefined;
  return defined({
    Test: f.strSlice("Test"),
    Interval: f.int("Interval"),
    Timeout: f.int("Timeout"),
    StartPeriod: f.int("StartPeriod"),
    StartInterval: f.int("StartInterval"),
    Retries: f.int("Retries"),
  });
}

function portBindings(f: Fields | undefined): Record<string, PortBinding[] | null> | undefined {
  if (!f) return undefined;
  const out: Record<string, PortBinding[] | null> = {};
  for (const port of f.keys()) {
    const list = f.objects(port);
    out[port] =
      list?.map((b) => defined({ HostIp: b.string("HostIp"), HostPort: b.string("HostPort") })) ?? null;
  }
  return out;
}

const MOUNT_TYPES = ["bind", "volume", "tmpfs"] as const;

function mounts(list: Fields[] | undefined): MountSpec[] | undefined {
  return list?.map((m) => {
    const type = m.string("Type") ?? "";
    const t = MOUNT_TYPES.find((x) => x === type);
    if (!t)
      throw invalidArgument(
        `invalid mount config: ${m.at("Type")}: mount type unknown: ${JSON.stringify(type)}`,
      );
    const target = m.string("Target");
    if (!target) throw invalidArgument(`invalid mount config: ${m.at("Target")} is required`);
    const bind = m.object("BindOptions");
    const vol = m.object("VolumeOptions");
    const tmp = m.object("TmpfsOptions");
    if (vol) {
      const driver = vol.object("DriverConfig");
      if (driver) refuseUnlessOneOf(driver, "Name", ["", "local"]);
      if (driver) refuseUnlessZero(driver, ["Options"]);
    }
    if (tmp) refuseUnlessZero(tmp, ["Options"]);
    return defined({
      Type: t,
      Source: m.string("Source"),
      Target: target,
      ReadOnly: m.bool("ReadOnly"),
      Consistency: m.string("Consistency"),
      BindOptions: bind
        ? defined({
            Propagation: bind.string("Propagation"),
            NonRecursive: bind.bool("NonRecursive"),
            CreateMountpoint: bind.bool("CreateMountpoint"),
          })
        : undefined,
      VolumeOptions: vol
        ? defined({
            NoCopy: vol.bool("NoCopy"),
            Labels: vol.stringMap("Labels"),
            Subpath: vol.string("Subpath"),
          })
        : undefined,
      TmpfsOptions: tmp ? defined({ SizeBytes: tmp.int("SizeBytes"), Mode: tmp.int("Mode") }) : undefined,
    });
  });
}

export function decodeHostConfig(h: Fields): HostConfig {
  // Docker fields berth does not implement: accepted only unset.
  refuseUnlessZero(h, [
    "BlkioWeight",
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "CpuCount",
    "CpuPercent",
    "IOMaximumIOps",
    "IOMaximumBandwidth",
    "DeviceCgroupRules",
    "DeviceRequests",
    "KernelMemory",
    "KernelMemoryTCP",
    "VolumesFrom",
    "Cgroup",
    "CgroupParent",
    "StorageOpt",
    "Devices",
    "Annotations",
  ]);
  refuseUnlessOneOf(h, "VolumeDriver", ["", "local"]);
  refuseUnlessOneOf(h, "Runtime", ["", "runc"]);
  refuseUnlessOneOf(h, "UsernsMode", ["", "host"]);
  refuseUnlessOneOf(h, "Isolation", ["", "default"]);
  const log = h.object("LogConfig");
  const restart = h.object("RestartPolicy");
  const ulimits = h.objects("Ulimits");
  const out: HostConfig = defined({
    // Resources
    CpuShares: h.int("CpuShares"),
    Memory: h.int("Memory"),
    NanoCpus: h.int("NanoCpus"),
    CpuPeriod: h.int("CpuPeriod"),
    CpuQuota: h.int("CpuQuota"),
    CpuRealtimePeriod: h.int("CpuRealtimePeriod"),
    CpuRealtimeRuntime: h.int("CpuRealtimeRuntime"),
    CpusetCpus: h.string("CpusetCpus"),
    CpusetMems: h.string("CpusetMems"),
    MemoryReservation: h.int("MemoryReservation"),
    MemorySwap: h.int("MemorySwap"),
    MemorySwappiness: h.raw("MemorySwappiness") === null ? null : h.int("MemorySwappiness"),
    OomKillDisable: h.raw("OomKillDisable") === null ? null : h.bool("OomKillDisable"),
    PidsLimit: h.raw("PidsLimit") === null ? null : h.int("PidsLimit"),
    Ulimits: ulimits?.map((u) => ({
      Name: u.string("Name") ?? "",
      Soft: u.int("Soft") ?? 0,
      Hard: u.int("Hard") ?? 0,
    })),
    // The rest of HostConfig
    Binds: h.strings("Binds"),
    NetworkMode: h.string("NetworkMode"),
    PortBindings: portBindings(h.object("PortBindings")),
    LogConfig: log ? { Type: log.string("Type") ?? "", Config: log.stringMap("Config") ?? {} } : undefined,
    RestartPolicy: restart
      ? defined({ Name: restart.string("Name") ?? "", MaximumRetryCount: restart.int("MaximumRetryCount") })
      : undefined,
    AutoRemove: h.bool("AutoRemove"),
    Mounts: mounts(h.objects("Mounts")),
    CapAdd: h.strings("CapAdd"),
    CapDrop: h.strings("CapDrop"),
    CgroupnsMode: h.string("CgroupnsMode"),
    Dns: h.strings("Dns"),
    DnsOptions: h.strings("DnsOptions"),
    DnsSearch: h.strings("DnsSearch"),
    ExtraHosts: h.strings("ExtraHosts"),
    GroupAdd: h.strings("GroupAdd"),
    IpcMode: h.string("IpcMode"),
    Links: h.strings("Links"),
    OomScoreAdj: h.int("OomScoreAdj"),
    PidMode: h.string("PidMode"),
    Privileged: h.bool("Privileged"),
    PublishAllPorts: h.bool("PublishAllPorts"),
    ReadonlyRootfs: h.bool("ReadonlyRootfs"),
    SecurityOpt: h.strings("SecurityOpt"),
    Tmpfs: h.stringMap("Tmpfs"),
    UTSMode: h.string("UTSMode"),
    ShmSize: h.int("ShmSize"),
    Sysctls: h.stringMap("Sysctls"),
    Init: h.raw("Init") === null ? null : h.bool("Init"),
    MaskedPaths: h.strings("MaskedPaths"),
    ReadonlyPaths: h.strings("ReadonlyPaths"),
  });
  // ConsoleSize is the client's terminal at create: the CLI resizes after start, as with Docker.
  const consoleSize = h.raw("ConsoleSize");
  if (consoleSize !== undefined && consoleSize !== null) {
    if (
      !Array.isArray(consoleSize) ||
      consoleSize.length !== 2 ||
      !consoleSize.every((n) => Number.isInteger(n))
    ) {
      throw invalidArgument(`invalid JSON: ${h.at("ConsoleSize")} must be two integers`);
    }
  }
  return out;
}

function endpointSettings(e: Fields): EndpointSettings {
  const ipam = e.object("IPAMConfig");
  if (ipam) refuseUnlessZero(ipam, ["LinkLocalIPs"]);
  refuseUnlessZero(e, ["GwPriority"]);
  return defined({
    IPAMConfig: ipam
      ? defined({ IPv4Address: ipam.string("IPv4Address"), IPv6Address: ipam.string("IPv6Address") })
      : undefined,
    Links: e.strings("Links"),
    Aliases: e.strings("Aliases"),
    MacAddress: e.string("MacAddress"),
    NetworkID: e.string("NetworkID"),
    EndpointID: e.string("EndpointID"),
    Gateway: e.string("Gateway"),
    IPAddress: e.string("IPAddress"),
    IPPrefixLen: e.int("IPPrefixLen"),
    IPv6Gateway: e.string("IPv6Gateway"),
    GlobalIPv6Address: e.string("GlobalIPv6Address"),
    GlobalIPv6PrefixLen: e.int("GlobalIPv6PrefixLen"),
    DriverOpts: e.stringMap("DriverOpts"),
    DNSNames: e.strings("DNSNames"),
  });
}

export function decodeNetworkingConfig(n: Fields): NetworkingConfig {
  const eps = n.object("EndpointsConfig");
  if (!eps) return {};
  const out: Record<string, EndpointSettings> = {};
  for (const name of eps.keys()) {
    const e = eps.object(name);
    out[name] = e ? endpointSettings(e) : {};
  }
  return { EndpointsConfig: out };
}

/** Decodes a container create body (the Config fields inline, HostConfig, NetworkingConfig). */
export function decodeContainerCreate(body: unknown): ContainerCreateRequest {
  if (body === undefined) throw invalidArgument("invalid JSON: the request body is empty");
  const c = new Fields(body, "");
  const mac = c.string("MacAddress");
  if (mac) throw invalidArgument("MacAddress is not supported by berth");
  const host = c.object("HostConfig");
  const networking = c.object("NetworkingConfig");
  const tty = c.bool("Tty");
  return defined({
    Hostname: c.string("Hostname"),
    Domainname: c.string("Domainname"),
    User: c.string("User"),
    AttachStdin: c.bool("AttachStdin"),
    AttachStdout: c.bool("AttachStdout"),
    AttachStderr: c.bool("AttachStderr"),
    ExposedPorts: c.keySet("ExposedPorts"),
    Tty: tty,
    OpenStdin: c.bool("OpenStdin"),
    StdinOnce: c.bool("StdinOnce"),
    Env: c.strings("Env"),
    Cmd: c.strSlice("Cmd"),
    Healthcheck: healthcheck(c.object("Healthcheck")),
    ArgsEscaped: c.bool("ArgsEscaped"),
    Image: c.string("Image"),
    Volumes: c.keySet("Volumes"),
    WorkingDir: c.string("WorkingDir"),
    Entrypoint: c.strSlice("Entrypoint"),
    NetworkDisabled: c.bool("NetworkDisabled"),
    OnBuild: c.strings("OnBuild"),
    Labels: c.stringMap("Labels"),
    StopSignal: c.string("StopSignal"),
    StopTimeout: c.int("StopTimeout"),
    Shell: c.strSlice("Shell"),
    HostConfig: host ? decodeHostConfig(host) : undefined,
    NetworkingConfig: networking ? decodeNetworkingConfig(networking) : undefined,
  });
}
