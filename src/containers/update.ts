/**
 * `docker update`: a container's new HostConfig from an update request, merged as Docker's daemon
 * merges it (a value given replaces the recorded one; zero leaves it), checked as Docker checks
 * it, and the `runc update` flags that apply the change to a running container. Pure.
 */
import { invalidArgument } from "../base/errors.js";
import type { ContainerUpdateRequest, HostConfig, RestartPolicy } from "../engine/types.js";

/** What the host can enforce (the cgroup files present) and offers. */
export interface UpdateHostFacts {
  /** Online CPUs (`--cpus` range, `--cpuset-cpus` availability). */
  readonly cpus: number;
  /** The cpuset memory nodes available ("0", "0-1"). */
  readonly mems: string;
  /** The memory cgroup limits swap (memory.memsw.* on v1, memory.swap.max on v2). */
  readonly swapLimit: boolean;
  /** blkio.weight (v1) or io.weight (v2) exists. */
  readonly blkioWeight: boolean;
  /** cpu.rt_runtime_us exists. */
  readonly cpuRealtime: boolean;
}

export interface UpdatePlan {
  readonly hostConfig: HostConfig;
  /** `runc update` flags for a running container (empty: nothing for runc to change). */
  readonly runcFlags: string[];
  readonly warnings: string[];
}

/** Thrown for a change that conflicts with what is recorded; the caller names the container. */
export class UpdateConflict extends Error {}

const MIN_MEMORY = 6 * 1024 * 1024;

/** "0-3,5" → the CPU numbers; undefined when it does not parse (Docker's parsers.ParseUintList). */
function parseList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function checkCpuset(value: string, available: number[], what: "CPUs" | "memory nodes"): void {
  const wanted = parseList(value);
  if (!wanted)
    throw invalidArgument(`Invalid value ${value} for cpuset ${what === "CPUs" ? "cpus" : "mems"}`);
  const missing = wanted.some((n) => !available.includes(n));
  if (missing) {
    const label = what === "CPUs" ? "CPUs" : "memory nodes";
    throw invalidArgument(
      `Requested ${label} are not available - requested ${value}, available: ${availableText(available)}`,
    );
  }
}

function availableText(list: readonly number[]): string {
  if (list.length === 0) return "";
  return list.length === 1 ? String(list[0]) : `${list[0]}-${list[list.length - 1]}`;
}

function checkRestart(policy: RestartPolicy): void {
  const name = policy.Name;
  if (!["", "no", "always", "unless-stopped", "on-failure"].includes(name))
    throw invalidArgument(`invalid restart policy '${name}'`);
  if ((policy.MaximumRetryCount ?? 0) < 0) throw invalidArgument("maximum retry count cannot be negative");
  if (name !== "on-failure" && (policy.MaximumRetryCount ?? 0) !== 0)
    throw invalidArgument(`maximum retry count cannot be used with restart policy '${name}'`);
}

/**
 * The merged HostConfig, the runc flags and Docker's warnings. Throws InvalidArgument for a
 * value Docker refuses outright and UpdateConflict for one that clashes with what is recorded.
 */
export function planUpdate(
  current: HostConfig,
  req: ContainerUpdateRequest,
  host: UpdateHostFacts,
): UpdatePlan {
  refuseUnsupported(req);
  const out: PlanOutput = { next: { ...current }, flags: [], warnings: [] };
  planMemory(current, req, host, out);
  planCpu(current, req, host, out);
  planBlkioAndPids(req, host, out);
  planRestart(current, req, out);
  return { hostConfig: out.next, runcFlags: out.flags, warnings: out.warnings };
}

/** What the sections of an update plan write: the merged HostConfig, runc's flags, warnings. */
interface PlanOutput {
  readonly next: HostConfig;
  readonly flags: string[];
  readonly warnings: string[];
}

/** Refuses the fields Docker accepts on update that berth does not apply. */
function refuseUnsupported(req: ContainerUpdateRequest): void {
  if ((req.KernelMemory ?? 0) !== 0 || (req.KernelMemoryTCP ?? 0) !== 0)
    throw invalidArgument("kernel memory limits are not supported (Docker removed them in API 1.42)");
  for (const [k, v] of [
    ["BlkioWeightDevice", req.BlkioWeightDevice],
    ["BlkioDeviceReadBps", req.BlkioDeviceReadBps],
    ["BlkioDeviceWriteBps", req.BlkioDeviceWriteBps],
    ["BlkioDeviceReadIOps", req.BlkioDeviceReadIOps],
    ["BlkioDeviceWriteIOps", req.BlkioDeviceWriteIOps],
    ["Devices", req.Devices],
    ["DeviceCgroupRules", req.DeviceCgroupRules],
    ["DeviceRequests", req.DeviceRequests],
    ["Ulimits", req.Ulimits],
  ] as const) {
    if (v && v.length > 0) throw invalidArgument(`${k} cannot be updated: not supported`);
  }
  if ((req.CpuCount ?? 0) !== 0 || (req.CpuPercent ?? 0) !== 0)
    throw invalidArgument("CpuCount and CpuPercent are Windows limits: not supported");
  if ((req.IOMaximumIOps ?? 0) !== 0 || (req.IOMaximumBandwidth ?? 0) !== 0)
    throw invalidArgument("IOMaximumIOps and IOMaximumBandwidth are Windows limits: not supported");
  if (req.CgroupParent) throw invalidArgument("CgroupParent cannot be updated: not supported");
  if (req.OomKillDisable !== undefined && req.OomKillDisable !== null)
    throw invalidArgument("OomKillDisable cannot be updated: not supported");
  if (req.MemorySwappiness !== undefined && req.MemorySwappiness !== null && req.MemorySwappiness !== -1)
    throw invalidArgument("MemorySwappiness cannot be updated: not supported");
}

/** Memory, swap and reservation: Docker's checks against each other and against what is set. */
function planMemory(
  current: HostConfig,
  req: ContainerUpdateRequest,
  host: UpdateHostFacts,
  out: PlanOutput,
): void {
  const { next, flags, warnings } = out;
  const memory = req.Memory ?? 0;
  const reservation = req.MemoryReservation ?? 0;
  let swap = req.MemorySwap ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalidArgument("Minimum memory limit allowed is 6MB");
  if (reservation !== 0 && reservation < MIN_MEMORY)
    throw invalidArgument("Minimum memory reservation allowed is 6MB");
  const curMemory = current.Memory ?? 0;
  let curSwap = current.MemorySwap ?? 0;
  if (curMemory > 0 && curSwap === 0) curSwap = curMemory * 2;
  if (memory !== 0 && swap === 0) {
    // Docker's documented rule: swap defaults to twice the memory when none was set; an
    // unlimited swap stays unlimited; a set swap must still be above the new memory.
    if (curSwap === 0) swap = memory * 2;
    else if (curSwap > 0 && memory > curSwap)
      throw new UpdateConflict(
        "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
      );
  }
  const finalMemory = memory !== 0 ? memory : curMemory;
  const finalSwap = swap !== 0 ? swap : curSwap;
  const finalReservation = reservation !== 0 ? reservation : (current.MemoryReservation ?? 0);
  if (swap > 0 && finalMemory === 0)
    throw invalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (finalSwap > 0 && finalMemory > finalSwap)
    throw invalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (finalMemory > 0 && finalReservation > 0 && finalMemory < finalReservation)
    throw invalidArgument("Minimum memory limit can not be less than memory reservation limit, see usage");
  if (memory !== 0) {
    next.Memory = memory;
    flags.push("--memory", String(memory));
  }
  if (swap !== 0) {
    if (host.swapLimit) {
      next.MemorySwap = swap;
      flags.push("--memory-swap", String(swap));
    } else {
      warnings.push(
        "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.",
      );
      next.MemorySwap = -1;
    }
  }
  if (reservation !== 0) {
    next.MemoryReservation = reservation;
    flags.push("--memory-reservation", String(reservation));
  }
}

/** CPUs, CFS period and quota, shares, real-time scheduling and cpusets. */
function planCpu(
  current: HostConfig,
  req: ContainerUpdateRequest,
  host: UpdateHostFacts,
  out: PlanOutput,
): void {
  const { next, flags } = out;
  const given = (v: number | undefined): v is number => v !== undefined && v !== 0;
  const nano = req.NanoCpus ?? 0;
  if (nano < 0 || nano > host.cpus * 1e9)
    throw invalidArgument(
      `Range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`,
    );
  if (nano > 0 && (req.CpuPeriod ?? 0) > 0)
    throw invalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && (req.CpuQuota ?? 0) > 0)
    throw invalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (nano > 0 && (current.CpuPeriod ?? 0) > 0)
    throw new UpdateConflict(
      "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set",
    );
  if (nano > 0 && (current.CpuQuota ?? 0) > 0)
    throw new UpdateConflict(
      "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set",
    );
  if ((req.CpuPeriod ?? 0) > 0 && (current.NanoCpus ?? 0) > 0)
    throw new UpdateConflict(
      "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set",
    );
  if ((req.CpuQuota ?? 0) > 0 && (current.NanoCpus ?? 0) > 0)
    throw new UpdateConflict(
      "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set",
    );
  const period = req.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000))
    throw invalidArgument(
      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  const quota = req.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw invalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  const shares = req.CpuShares ?? 0;
  if (shares < 0) throw invalidArgument(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (shares !== 0) {
    next.CpuShares = shares;
    flags.push("--cpu-share", String(shares));
  }
  if (nano !== 0) {
    next.NanoCpus = nano;
    flags.push("--cpu-period", "100000", "--cpu-quota", String(Math.trunc((nano * 100000) / 1e9)));
  }
  if (given(period)) {
    next.CpuPeriod = period;
    flags.push("--cpu-period", String(period));
  }
  if (given(quota)) {
    next.CpuQuota = quota;
    flags.push("--cpu-quota", String(quota));
  }
  const rtPeriod = req.CpuRealtimePeriod ?? 0;
  const rtRuntime = req.CpuRealtimeRuntime ?? 0;
  if ((rtPeriod !== 0 || rtRuntime !== 0) && !host.cpuRealtime)
    throw invalidArgument("Your kernel does not support CPU real-time scheduler");
  const finalRtPeriod = rtPeriod !== 0 ? rtPeriod : (current.CpuRealtimePeriod ?? 0);
  const finalRtRuntime = rtRuntime !== 0 ? rtRuntime : (current.CpuRealtimeRuntime ?? 0);
  if (finalRtPeriod !== 0 && finalRtRuntime > finalRtPeriod)
    throw invalidArgument("cpu-rt-runtime cannot be higher than cpu-rt-period");
  if (rtPeriod !== 0) {
    next.CpuRealtimePeriod = rtPeriod;
    flags.push("--cpu-rt-period", String(rtPeriod));
  }
  if (rtRuntime !== 0) {
    next.CpuRealtimeRuntime = rtRuntime;
    flags.push("--cpu-rt-runtime", String(rtRuntime));
  }
  if (req.CpusetCpus) {
    checkCpuset(
      req.CpusetCpus,
      Array.from({ length: host.cpus }, (_, i) => i),
      "CPUs",
    );
    next.CpusetCpus = req.CpusetCpus;
    flags.push("--cpuset-cpus", req.CpusetCpus);
  }
  if (req.CpusetMems) {
    checkCpuset(req.CpusetMems, parseList(host.mems) ?? [0], "memory nodes");
    next.CpusetMems = req.CpusetMems;
    flags.push("--cpuset-mems", req.CpusetMems);
  }
}

function planBlkioAndPids(req: ContainerUpdateRequest, host: UpdateHostFacts, out: PlanOutput): void {
  const { next, flags, warnings } = out;
  const weight = req.BlkioWeight ?? 0;
  if (weight !== 0 && (weight < 10 || weight > 1000))
    throw invalidArgument("Range of blkio weight is from 10 to 1000");
  if (weight !== 0) {
    if (host.blkioWeight) {
      next.BlkioWeight = weight;
      flags.push("--blkio-weight", String(weight));
    } else {
      warnings.push(
        "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
      );
    }
  }
  if (req.PidsLimit !== undefined && req.PidsLimit !== null) {
    // Zero or less is unlimited, recorded as no limit (as create records it).
    next.PidsLimit = req.PidsLimit > 0 ? req.PidsLimit : null;
    flags.push("--pids-limit", String(req.PidsLimit > 0 ? req.PidsLimit : -1));
  }
}

function planRestart(current: HostConfig, req: ContainerUpdateRequest, out: PlanOutput): void {
  const policy = req.RestartPolicy;
  if (policy && policy.Name !== "") {
    checkRestart(policy);
    if (current.AutoRemove && policy.Name !== "no")
      throw new UpdateConflict(
        "Restart policy cannot be updated because AutoRemove is enabled for the container",
      );
    out.next.RestartPolicy = { Name: policy.Name, MaximumRetryCount: policy.MaximumRetryCount ?? 0 };
  }
}
