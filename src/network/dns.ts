/**
 * Name resolution on user-defined networks through Debian's aardvark-dns (Podman's DNS server
 * for netavark), one server per store listening on port 53 at each such network's gateway.
 * Its configuration directory holds one file per network (named after it): the first line the
 * addresses to listen on, then one line per container — `ID IPv4s IPv6s names [dns servers]`
 * (aardvark-dns 1.4 format). SIGHUP makes it reload; with no network file left, berth stops it.
 *
 * Every function here is synchronous so that callers can run it inside the database's write
 * transaction: the files are regenerated from the records under that lock, never half-merged by
 * two processes at once.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errnoCode, failedPrecondition } from "../base/errors.js";

export const AARDVARK_BINARY = "/usr/lib/podman/aardvark-dns";
const PID_FILE = "aardvark.pid";

export interface DnsEntry {
  readonly containerId: string;
  readonly ipv4: string;
  /** Container name first, then aliases. */
  readonly names: readonly string[];
  /** The container's own `--dns` servers (aardvark forwards its other queries there). */
  readonly dnsServers: readonly string[];
}

export interface DnsNetwork {
  readonly name: string;
  readonly gateway: string;
  readonly entries: readonly DnsEntry[];
}

/** One network's aardvark-dns configuration file. */
export function aardvarkConfig(net: DnsNetwork): string {
  const lines = [net.gateway];
  for (const e of net.entries) {
    const names = e.names.filter((n) => /^[A-Za-z0-9_.-]+$/.test(n));
    if (names.length === 0) continue;
    const dns = e.dnsServers.length > 0 ? ` ${e.dnsServers.join(",")}` : "";
    lines.push(`${e.containerId} ${e.ipv4}  ${names.join(",")}${dns}`);
  }
  return `${lines.join("\n")}\n`;
}

function serverPid(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, PID_FILE), "utf8"), 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** Whether the process has a handler for SIGHUP (bit 0 of SigCgt in its status). */
function catchesHup(pid: number): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m !== null && (Number.parseInt((m[1] ?? "0").slice(-1), 16) & 1) === 1;
  } catch {
    return false;
  }
}

/** The inodes of the host's UDP sockets bound to port 53 of each address (from /proc/net/udp). */
function dnsSockets(addresses: readonly string[]): Map<string, Set<string>> {
  const out = new Map(addresses.map((a) => [a, new Set<string>()]));
  let text = "";
  try {
    text = readFileSync("/proc/net/udp", "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    const [hexIp, hexPort] = (f[1] ?? "").split(":");
    if (hexPort !== "0035" || hexIp?.length !== 8) continue;
    // The address is the kernel's 32-bit value in host (little-endian) byte order.
    const ip = [6, 4, 2, 0].map((i) => Number.parseInt(hexIp.slice(i, i + 2), 16)).join(".");
    out.get(ip)?.add(f[9] ?? "");
  }
  return out;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls `done` every 20 ms until it holds or `ms` pass; whether it held. */
function waitSync(ms: number, done: () => boolean): boolean {
  const deadline = Date.now() + ms;
  for (;;) {
    if (done()) return true;
    if (Date.now() > deadline) return false;
    sleepSync(20);
  }
}

/** How long a (re)started server gets to bind every address (a loaded 2-core host is slow). */
const READY_MS = 10_000;

/**
 * Makes the server's configuration the given networks (those with containers to resolve) and
 * has it reload — starting it when needed, stopping it when there is nothing left to serve.
 *
 * aardvark-dns 1.4 says it is ready before it installs its SIGHUP handler and binds its sockets,
 * and rebinds them all on every reload: a SIGHUP that comes before the handler kills it, one that
 * comes while it reloads is lost, and a new server whose address the previous one still holds
 * serves nothing there. So this returns only once the server answers on every address with
 * sockets made after the configuration was written (callers hold the database's write lock, so
 * no other process signals it meanwhile), and a stop waits for the server to be gone.
 */
export function syncDns(dir: string, networks: readonly DnsNetwork[], binary = AARDVARK_BINARY): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const wanted = new Set(networks.map((n) => n.name));
  const addresses = [...new Set(networks.map((n) => n.gateway))];
  const before = dnsSockets(addresses);
  for (const n of networks) {
    const tmp = join(dir, `.${n.name}.tmp`);
    writeFileSync(tmp, aardvarkConfig(n), { mode: 0o600 });
    renameSync(tmp, join(dir, n.name));
  }
  for (const f of readdirSync(dir)) {
    if (f === PID_FILE || f.startsWith(".") || wanted.has(f)) continue;
    rmSync(join(dir, f), { force: true });
  }
  const pid = serverPid(dir);
  if (networks.length === 0) {
    if (pid !== undefined) {
      process.kill(pid, "SIGTERM");
      waitSync(READY_MS, () => !alive(pid));
    }
    rmSync(join(dir, PID_FILE), { force: true });
    return;
  }
  const rebound = () => {
    const now = dnsSockets(addresses);
    return addresses.every((a) => [...(now.get(a) ?? [])].some((i) => !before.get(a)?.has(i)));
  };
  if (pid !== undefined) {
    if (!waitSync(READY_MS, () => catchesHup(pid)))
      throw failedPrecondition(`aardvark-dns (pid ${pid}) did not become ready to reload`);
    process.kill(pid, "SIGHUP");
    if (!waitSync(READY_MS, rebound))
      throw failedPrecondition(
        `aardvark-dns (pid ${pid}) did not serve ${addresses.join(", ")} after a reload`,
      );
    return;
  }
  // A server stopped by another process may still hold an address for a moment.
  waitSync(READY_MS, () => [...dnsSockets(addresses).values()].every((s) => s.size === 0));
  for (const [a, s] of dnsSockets(addresses)) before.set(a, s);
  // `run` forks the server and returns once it has written its pid file.
  const r = spawnSync(binary, ["--config", dir, "-p", "53", "run"], {
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 10_000,
  });
  if (r.error) {
    if (errnoCode(r.error) === "ENOENT")
      throw failedPrecondition(`${binary} not found: install the Debian package aardvark-dns`, r.error);
    throw failedPrecondition(`cannot start aardvark-dns: ${r.error.message}`, r.error);
  }
  if (r.status !== 0)
    throw failedPrecondition(`aardvark-dns failed to start: ${r.stderr.toString("utf8").trim()}`);
  if (!waitSync(READY_MS, rebound))
    throw failedPrecondition(`aardvark-dns did not serve ${addresses.join(", ")} after it started`);
}
