/**
 * `berth update` (`container update`): new resource limits and restart policy, as Docker's; and
 * berth's own `--publish-add`/`--publish-rm`, which change published ports without recreating.
 */
import type { ContainerPortsUpdate, ContainerUpdateRequest, PortBinding } from "../../engine/types.js";
import { atLeast, type Command } from "../command.js";
import { type FlagSpec, UsageError } from "../flags.js";
import { forEachName } from "./each.js";
import { bytes, int, nanoCpus, parsePublish, parseRestart, setGiven } from "./run-flags.js";

const s = (name: string, description: string, valueName: string, short?: string): FlagSpec => ({
  name,
  type: "string",
  description,
  valueName,
  ...(short ? { short } : {}),
});

/** Docker's `update` flags (its hidden --kernel-memory included, so it can be refused by name). */
const UPDATE_FLAGS: readonly FlagSpec[] = [
  s("blkio-weight", "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)", "uint16"),
  s("cpu-period", "Limit CPU CFS (Completely Fair Scheduler) period", "int"),
  s("cpu-quota", "Limit CPU CFS (Completely Fair Scheduler) quota", "int"),
  s("cpu-rt-period", "Limit the CPU real-time period in microseconds", "int"),
  s("cpu-rt-runtime", "Limit the CPU real-time runtime in microseconds", "int"),
  s("cpu-shares", "CPU shares (relative weight)", "int", "c"),
  s("cpus", "Number of CPUs", "decimal"),
  s("cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)", "string"),
  s("cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)", "string"),
  { ...s("kernel-memory", "Kernel memory limit (deprecated)", "bytes"), hidden: true },
  s("memory", "Memory limit", "bytes", "m"),
  s("memory-reservation", "Memory soft limit", "bytes"),
  s("memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap", "bytes"),
  s("pids-limit", "Tune container pids limit (set -1 for unlimited)", "int"),
  s("restart", "Restart policy to apply when a container exits", "string"),
  {
    name: "publish-add",
    type: "list",
    valueName: "list",
    description: "Publish a container's port(s) to the host, at once if it runs (berth: no recreate)",
  },
  {
    name: "publish-rm",
    type: "list",
    valueName: "list",
    description:
      "Stop publishing a port ([ip:]hostPort:containerPort[/proto], or containerPort[/proto] for all its bindings)",
  },
];

/**
 * The ports change of `--publish-add`/`--publish-rm` (Docker's `-p` syntax); undefined when
 * neither is given. `--publish-rm 80/tcp` names every binding of that container port.
 */
export function portsUpdate(add: readonly string[], rm: readonly string[]): ContainerPortsUpdate | undefined {
  if (add.length === 0 && rm.length === 0) return undefined;
  const req: ContainerPortsUpdate = {};
  if (add.length > 0) req.Add = parsePublish(add).bindings;
  if (rm.length > 0) {
    const remove: Record<string, PortBinding[]> = {};
    for (const spec of rm) {
      for (const [key, list] of Object.entries(parsePublish([spec]).bindings)) {
        const all = list.every((b) => !b.HostIp && !b.HostPort);
        const cur = remove[key] ?? [];
        remove[key] = all ? [] : [...cur, ...list];
      }
    }
    req.Remove = remove;
  }
  return req;
}

const updateCommand: Command = {
  path: "container update",
  aliases: ["update"],
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  description: "Update configuration of one or more containers",
  args: atLeast(1),
  flags: UPDATE_FLAGS,
  async run(ctx, flags, args) {
    if (flags.string("kernel-memory") !== undefined)
      throw new UsageError(
        "--kernel-memory is not supported (Docker removed kernel memory limits in API 1.42)",
      );
    const req: ContainerUpdateRequest = {};
    const weight = int(flags, "blkio-weight");
    if (weight !== undefined) {
      if (weight < 0 || weight > 65535)
        throw new UsageError(
          `invalid argument "${weight}" for "--blkio-weight" flag: strconv.ParseUint: parsing "${weight}": value out of range`,
        );
      req.BlkioWeight = weight;
    }
    const set = <K extends keyof ContainerUpdateRequest>(k: K, v: ContainerUpdateRequest[K] | undefined) =>
      setGiven(req, k, v);
    set("CpuPeriod", int(flags, "cpu-period"));
    set("CpuQuota", int(flags, "cpu-quota"));
    set("CpuRealtimePeriod", int(flags, "cpu-rt-period"));
    set("CpuRealtimeRuntime", int(flags, "cpu-rt-runtime"));
    set("CpuShares", int(flags, "cpu-shares"));
    set("NanoCpus", nanoCpus(flags));
    set("CpusetCpus", flags.string("cpuset-cpus"));
    set("CpusetMems", flags.string("cpuset-mems"));
    set("Memory", bytes(flags, "memory"));
    set("MemoryReservation", bytes(flags, "memory-reservation"));
    set("MemorySwap", bytes(flags, "memory-swap"));
    set("PidsLimit", int(flags, "pids-limit"));
    const restart = flags.string("restart");
    if (restart !== undefined) req.RestartPolicy = parseRestart(restart);
    const ports = portsUpdate(flags.list("publish-add"), flags.list("publish-rm"));
    if (Object.keys(req).length === 0 && !ports) {
      ctx.io.stderr.write("you must provide one or more flags when using this command\n");
      return 1;
    }
    const engine = await ctx.engine();
    const warnings: string[] = [];
    const status = await forEachName(ctx, args, async (name) => {
      // Ports first: the change most likely to be refused (a host port in use) leaves the limits as they were.
      if (ports) await engine.containerUpdatePorts(name, ports);
      if (Object.keys(req).length > 0) warnings.push(...(await engine.containerUpdate(name, req)).Warnings);
      ctx.io.stdout.write(`${name}\n`);
    });
    if (warnings.length > 0) ctx.io.stdout.write(`${warnings.join("\n")}\n`);
    return status;
  },
};

export const updateCommands: readonly Command[] = [updateCommand];
