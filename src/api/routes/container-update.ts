/**
 * The body of POST /containers/{id}/update decoded into ContainerUpdateRequest: Docker's
 * UpdateConfig (the Resources fields inline, and RestartPolicy), each field type-checked (400
 * naming it). Fields the engine cannot apply reach it and are refused there in Docker's words.
 */
import { invalidArgument } from "../../base/errors.js";
import type { ContainerPortsUpdate, ContainerUpdateRequest, PortBinding } from "../../engine/types.js";
import { Fields } from "../decode.js";

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** A list field the engine refuses unless empty: only its length matters here. */
function listLength(f: Fields, name: string): number {
  const v = f.raw(name);
  if (v === undefined || v === null) return 0;
  if (!Array.isArray(v)) throw invalidArgument(`invalid JSON: ${f.at(name)} must be an array`);
  return v.length;
}

export function decodeContainerUpdate(body: unknown): ContainerUpdateRequest {
  if (body === undefined) throw invalidArgument("invalid JSON: the request body is empty");
  const u = new Fields(body, "");
  for (const name of [
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "Devices",
    "DeviceCgroupRules",
    "DeviceRequests",
    "Ulimits",
  ]) {
    if (listLength(u, name) > 0) throw invalidArgument(`${u.at(name)} cannot be updated: not supported`);
  }
  const restart = u.object("RestartPolicy");
  return defined({
    CpuShares: u.int("CpuShares"),
    Memory: u.int("Memory"),
    NanoCpus: u.int("NanoCpus"),
    CgroupParent: u.string("CgroupParent"),
    BlkioWeight: u.int("BlkioWeight"),
    CpuPeriod: u.int("CpuPeriod"),
    CpuQuota: u.int("CpuQuota"),
    CpuRealtimePeriod: u.int("CpuRealtimePeriod"),
    CpuRealtimeRuntime: u.int("CpuRealtimeRuntime"),
    CpusetCpus: u.string("CpusetCpus"),
    CpusetMems: u.string("CpusetMems"),
    KernelMemory: u.int("KernelMemory"),
    KernelMemoryTCP: u.int("KernelMemoryTCP"),
    MemoryReservation: u.int("MemoryReservation"),
    MemorySwap: u.int("MemorySwap"),
    MemorySwappiness: u.raw("MemorySwappiness") === null ? null : u.int("MemorySwappiness"),
    OomKillDisable: u.raw("OomKillDisable") === null ? null : u.bool("OomKillDisable"),
    PidsLimit: u.raw("PidsLimit") === null ? undefined : u.int("PidsLimit"),
    CpuCount: u.int("CpuCount"),
    CpuPercent: u.int("CpuPercent"),
    IOMaximumIOps: u.int("IOMaximumIOps"),
    IOMaximumBandwidth: u.int("IOMaximumBandwidth"),
    RestartPolicy: restart
      ? defined({ Name: restart.string("Name") ?? "", MaximumRetryCount: restart.int("MaximumRetryCount") })
      : undefined,
  });
}

function bindingLists(f: Fields | undefined): Record<string, PortBinding[]> | undefined {
  if (!f) return undefined;
  const out: Record<string, PortBinding[]> = {};
  for (const port of f.keys()) {
    out[port] = (f.objects(port) ?? []).map((b) =>
      defined({ HostIp: b.string("HostIp"), HostPort: b.string("HostPort") }),
    );
  }
  return out;
}

/** The body of berth's POST /containers/{id}/ports: `{"Add": PortMap, "Remove": PortMap}`. */
export function decodeContainerPortsUpdate(body: unknown): ContainerPortsUpdate {
  if (body === undefined) throw invalidArgument("invalid JSON: the request body is empty");
  const u = new Fields(body, "");
  return defined({ Add: bindingLists(u.object("Add")), Remove: bindingLists(u.object("Remove")) });
}
