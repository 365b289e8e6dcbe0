/**
 * `top` and `stats`: the processes of a running container (runc's PID list matched against the
 * host's `ps`) and its resource use from its cgroups (v1 hierarchy or v2 unified).
 * It only reads (cgroup files, `ps`); it never changes a container's limits or processes.
 */
import { readFile } from "node:fs/promises";
import { sleep } from "../base/async.js";
import { conflict, internal } from "../base/errors.js";
import type { ContainerStatsResponse, ContainerTopResponse } from "../engine/types.js";
import type { Runtime } from "../runtime/runtime.js";
import { execProgram } from "../sys/exec.js";
import { readTextIfExists, statIfExists } from "../sys/fs.js";

/** `ps` output (with a PID column) reduced to the container's processes. */
export async function containerTop(
  driver: Runtime,
  id: string,
  psArgs: readonly string[],
): Promise<ContainerTopResponse> {
  const state = await driver.state(id);
  if (state?.status !== "running") throw conflict(`container ${id} is not running`);
  const pids = new Set(await driver.pids(id));
  const r = await execProgram("ps", psArgs.length > 0 ? [...psArgs] : ["-ef"], { pkg: "procps" });
  if (r.code !== 0) throw internal(`ps failed: ${r.stderr.trim()}`);
  const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0] ?? "";
  const titles = header.trim().split(/\s+/);
  const pidCol = titles.indexOf("PID");
  if (pidCol < 0) throw conflict(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(Number(fields[pidCol]))) continue;
    // The last column (the command) may contain spaces: keep it whole.
    const fixed = fields.slice(0, titles.length - 1);
    fixed.push(fields.slice(titles.length - 1).join(" "));
    processes.push(fixed);
  }
  return { Titles: titles, Processes: processes };
}

/** A cgroup file's first number; undefined when the file is absent (no such controller, or gone). */
async function readNumber(path: string): Promise<number | undefined> {
  const text = (await readTextIfExists(path))?.trim();
  if (text === undefined) return undefined;
  if (text === "max") return Number.POSITIVE_INFINITY;
  const n = Number(text.split(/\s+/)[0]);
  return Number.isFinite(n) ? n : undefined;
}

async function cpuUsageNs(cgroup: string, v2: boolean): Promise<number> {
  if (!v2) return (await readNumber(`/sys/fs/cgroup/cpuacct${cgroup}/cpuacct.usage`)) ?? 0;
  const text = (await readTextIfExists(`/sys/fs/cgroup${cgroup}/cpu.stat`)) ?? "";
  return Number(/^usage_usec\s+(\d+)/m.exec(text)?.[1] ?? 0) * 1000;
}

/** Host CPU time in ns (all CPUs, from /proc/stat) and the number of online CPUs. */
async function systemCpu(): Promise<{ ns: number; cpus: number }> {
  const text = await readFile("/proc/stat", "utf8");
  const first = text.split("\n")[0] ?? "";
  const ticks = first
    .trim()
    .split(/\s+/)
    .slice(1, 8)
    .reduce((s, v) => s + Number(v), 0);
  const cpus = text.split("\n").filter((l) => /^cpu\d+ /.test(l)).length;
  // USER_HZ is 100 on Linux.
  return { ns: ticks * 10_000_000, cpus };
}

/** One sample of a container's counters. */
interface Sample {
  readonly time: string;
  readonly cpu: number;
  readonly sys: { ns: number; cpus: number };
}

async function sample(cgroupPath: string, v2: boolean): Promise<Sample> {
  return { time: new Date().toISOString(), cpu: await cpuUsageNs(cgroupPath, v2), sys: await systemCpu() };
}

async function cgroupV2(): Promise<boolean> {
  return (await statIfExists("/sys/fs/cgroup/cgroup.controllers")) !== undefined;
}

/** The container's interfaces' byte and packet counts, from its network namespace's /proc/net/dev. */
async function networkStats(pid: number): Promise<ContainerStatsResponse["networks"]> {
  if (pid <= 0) return undefined;
  // Absent once the process has gone.
  const text = await readTextIfExists(`/proc/${pid}/net/dev`);
  if (text === undefined) return undefined;
  const out: NonNullable<ContainerStatsResponse["networks"]> = {};
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === "lo") continue;
    const f = (m[2] ?? "").trim().split(/\s+/).map(Number);
    out[m[1] as string] = {
      rx_bytes: f[0] ?? 0,
      rx_packets: f[1] ?? 0,
      rx_errors: f[2] ?? 0,
      rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0,
      tx_packets: f[9] ?? 0,
      tx_errors: f[10] ?? 0,
      tx_dropped: f[11] ?? 0,
    };
  }
  return out;
}

/** Bytes read and written by the container's cgroup (blkio on v1, io.stat on v2). */
async function blkioStats(cgroupPath: string, v2: boolean): Promise<ContainerStatsResponse["blkio_stats"]> {
  const entries: Array<{ major: number; minor: number; op: string; value: number }> = [];
  if (v2) {
    const text = (await readTextIfExists(`/sys/fs/cgroup${cgroupPath}/io.stat`)) ?? "";
    for (const line of text.split("\n")) {
      const m = /^(\d+):(\d+)\s+(.*)$/.exec(line.trim());
      if (!m) continue;
      const kv = Object.fromEntries((m[3] ?? "").split(/\s+/).map((p) => p.split("=") as [string, string]));
      entries.push({ major: Number(m[1]), minor: Number(m[2]), op: "read", value: Number(kv.rbytes ?? 0) });
      entries.push({
        major: Number(m[1]),
        minor: Number(m[2]),
        op: "write",
        value: Number(kv.wbytes ?? 0),
      });
    }
  } else {
    const text =
      (await readTextIfExists(
        `/sys/fs/cgroup/blkio${cgroupPath}/blkio.throttle.io_service_bytes_recursive`,
      )) ?? "";
    for (const line of text.split("\n")) {
      const m = /^(\d+):(\d+)\s+(\w+)\s+(\d+)$/.exec(line.trim());
      if (!m) continue;
      entries.push({
        major: Number(m[1]),
        minor: Number(m[2]),
        op: (m[3] ?? "").toLowerCase(),
        value: Number(m[4]),
      });
    }
  }
  // No such cgroup file (the container is not running): no I/O to report.
  return { io_service_bytes_recursive: entries };
}

/** A reading: `cur` against `pre` for CPU, the rest read now. */
async function reading(
  cgroupPath: string,
  pid: number,
  v2: boolean,
  pre: Sample,
  cur: Sample,
): Promise<ContainerStatsResponse> {
  const usage = v2
    ? ((await readNumber(`/sys/fs/cgroup${cgroupPath}/memory.current`)) ?? 0)
    : ((await readNumber(`/sys/fs/cgroup/memory${cgroupPath}/memory.usage_in_bytes`)) ?? 0);
  let limit = v2
    ? ((await readNumber(`/sys/fs/cgroup${cgroupPath}/memory.max`)) ?? Number.POSITIVE_INFINITY)
    : ((await readNumber(`/sys/fs/cgroup/memory${cgroupPath}/memory.limit_in_bytes`)) ??
      Number.POSITIVE_INFINITY);
  // An unlimited container is limited by the host's memory, as Docker shows it.
  if (!Number.isFinite(limit) || limit > 2 ** 62) {
    const meminfo = await readFile("/proc/meminfo", "utf8");
    limit = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) * 1024;
  }
  const pids = v2
    ? ((await readNumber(`/sys/fs/cgroup${cgroupPath}/pids.current`)) ?? 0)
    : ((await readNumber(`/sys/fs/cgroup/pids${cgroupPath}/pids.current`)) ?? 0);
  const networks = await networkStats(pid);
  return {
    read: cur.time,
    preread: pre.time,
    cpu_stats: {
      cpu_usage: { total_usage: cur.cpu },
      system_cpu_usage: cur.sys.ns,
      online_cpus: cur.sys.cpus,
    },
    precpu_stats: {
      cpu_usage: { total_usage: pre.cpu },
      system_cpu_usage: pre.sys.ns,
      online_cpus: pre.sys.cpus,
    },
    memory_stats: { usage, limit },
    pids_stats: { current: pids },
    blkio_stats: await blkioStats(cgroupPath, v2),
    ...(networks ? { networks } : {}),
  };
}

/** Two samples `intervalMs` apart, in Docker's stats shape. */
export async function containerStats(
  cgroupPath: string,
  pid = 0,
  intervalMs = 500,
): Promise<ContainerStatsResponse> {
  const v2 = await cgroupV2();
  const pre = await sample(cgroupPath, v2);
  await sleep(intervalMs);
  return reading(cgroupPath, pid, v2, pre, await sample(cgroupPath, v2));
}

/**
 * Docker's `stream=true`: a reading every `intervalMs` (each against the previous sample) until
 * `signal` aborts or `running()` says the container stopped; the first comes after one interval.
 */
export async function* containerStatsStream(
  cgroupPath: string,
  opts: { pid: () => number; running: () => Promise<boolean>; signal?: AbortSignal; intervalMs?: number },
): AsyncIterable<ContainerStatsResponse> {
  const v2 = await cgroupV2();
  let pre = await sample(cgroupPath, v2);
  for (;;) {
    try {
      await sleep(opts.intervalMs ?? 1000, opts.signal);
    } catch {
      return;
    }
    if (opts.signal?.aborted || !(await opts.running())) return;
    const cur = await sample(cgroupPath, v2);
    yield await reading(cgroupPath, opts.pid(), v2, pre, cur);
    pre = cur;
  }
}
