/**
 * Name resolution on user-defined networks through Debian's aardvark-dns (Podman's DNS server
 * for netavark): per store, two servers that each listen at every such network's gateway (ports
 * 10053 and 10054), and an nftables table that leads port 53 to the current one (`syncDns` says
 * why two). Each server's configuration directory (`<dns dir>/a`, `<dns dir>/b`) holds one file
 * per network (named after it): the first line the addresses to listen on, then one line per
 * container — `ID IPv4s IPv6s names [dns servers]` (aardvark-dns 1.4 format) — and its
 * aardvark.pid. SIGHUP makes a server reload; with no network file left, berth stops it.
 * It never answers a query itself (aardvark-dns does).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { sleep } from "../base/async.js";
import { errnoCode, failedPrecondition } from "../base/errors.js";
import { execProgram } from "../sys/exec.js";
import { readTextIfExistsSync } from "../sys/fs.js";
import { dnsTable, dnsTableOf } from "./firewall.js";

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
  const text = readTextIfExistsSync(join(dir, PID_FILE));
  if (text === undefined) return undefined;
  const pid = Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return alive(pid) ? pid : undefined;
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  const status = readTextIfExistsSync(`/proc/${pid}/status`);
  return status !== undefined && !/^State:\s*Z/m.test(status);
}

/** Whether the process has a handler for SIGHUP (bit 0 of SigCgt in its status). */
function catchesHup(pid: number): boolean {
  const m = /^SigCgt:\s*([0-9a-f]+)/m.exec(readTextIfExistsSync(`/proc/${pid}/status`) ?? "");
  return m !== null && (Number.parseInt((m[1] ?? "0").slice(-1), 16) & 1) === 1;
}

interface UdpSocketInfo {
  readonly inode: string;
  /** Bytes waiting to be read. */
  readonly queued: number;
}

/** The host's UDP sockets bound to `port` of each address (from /proc/net/udp). */
function udpSockets(addresses: readonly string[], port: number): Map<string, UdpSocketInfo[]> {
  const out = new Map(addresses.map((a) => [a, [] as UdpSocketInfo[]]));
  const text = readFileSync("/proc/net/udp", "utf8");
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    const [hexIp, p] = (f[1] ?? "").split(":");
    if (p !== hexPort || hexIp?.length !== 8) continue;
    // The address is the kernel's 32-bit value in host (little-endian) byte order.
    const ip = [6, 4, 2, 0].map((i) => Number.parseInt(hexIp.slice(i, i + 2), 16)).join(".");
    const queued = Number.parseInt((f[4] ?? "").split(":")[1] ?? "0", 16);
    out.get(ip)?.push({ inode: f[9] ?? "", queued: Number.isNaN(queued) ? 0 : queued });
  }
  return out;
}

/** Polls `done` every 5 ms until it holds or `ms` pass; whether it held. */
async function waitUntil(ms: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
}

/** How long a (re)started server gets to bind every address (a loaded 2-core host is slow). */
const READY_MS = 10_000;

/** Stops the server whose pid file is in `dir` and waits until it is gone (it holds addresses). */
async function stopServer(dir: string): Promise<void> {
  const pid = serverPid(dir);
  if (pid !== undefined) {
    process.kill(pid, "SIGTERM");
    await waitUntil(READY_MS, () => !alive(pid));
  }
  rmSync(join(dir, PID_FILE), { force: true });
}

/**
 * Makes one server's configuration the given networks and has it load them — starting it when
 * needed, stopping it when there is nothing to serve — and returns once it listens on `port` of
 * every gateway with sockets made after the configuration was written.
 *
 * aardvark-dns 1.4 says it is ready before it installs its SIGHUP handler and binds its sockets,
 * and a reload closes every socket, parses the files and binds them again: a SIGHUP that comes
 * before the handler kills it, and a new server whose address the previous one still holds
 * serves nothing there. New sockets mean the files were parsed (it binds only after parsing).
 */
async function syncServer(
  dir: string,
  port: number,
  networks: readonly DnsNetwork[],
  binary: string,
): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const wanted = new Set(networks.map((n) => n.name));
  const addresses = [...new Set(networks.map((n) => n.gateway))];
  const inodes = (m: Map<string, UdpSocketInfo[]>) =>
    new Map([...m].map(([a, s]) => [a, new Set(s.map((x) => x.inode))]));
  let before = inodes(udpSockets(addresses, port));
  for (const n of networks) {
    // Written whole, then renamed: the server never parses a half-written file.
    const tmp = join(dir, `.${n.name}.tmp`);
    writeFileSync(tmp, aardvarkConfig(n), { mode: 0o600 });
    renameSync(tmp, join(dir, n.name));
  }
  for (const f of readdirSync(dir)) {
    if (f === PID_FILE || f.startsWith(".") || wanted.has(f)) continue;
    rmSync(join(dir, f), { force: true });
  }
  if (networks.length === 0) {
    await stopServer(dir);
    return;
  }
  const rebound = () => {
    const now = udpSockets(addresses, port);
    return addresses.every((a) => (now.get(a) ?? []).some((s) => !before.get(a)?.has(s.inode)));
  };
  const pid = serverPid(dir);
  if (pid !== undefined) {
    if (!(await waitUntil(READY_MS, () => catchesHup(pid))))
      throw failedPrecondition(`aardvark-dns (pid ${pid}) did not become ready to reload`);
    process.kill(pid, "SIGHUP");
    if (!(await waitUntil(READY_MS, () => rebound() || !alive(pid))) || !alive(pid))
      throw failedPrecondition(
        `aardvark-dns (pid ${pid}) did not serve ${addresses.join(", ")} port ${port} after a reload`,
      );
    return;
  }
  // A server stopped by another process may still hold an address for a moment.
  await waitUntil(READY_MS, () => [...udpSockets(addresses, port).values()].every((s) => s.length === 0));
  before = inodes(udpSockets(addresses, port));
  // `run` forks the server and returns once it has written its pid file.
  const r = await execProgram(binary, ["--config", dir, "-p", String(port), "run"], {
    signal: AbortSignal.timeout(10_000),
    pkg: "aardvark-dns",
  });
  if (r.code !== 0) throw failedPrecondition(`aardvark-dns failed to start: ${r.stderr.trim()}`);
  if (!(await waitUntil(READY_MS, rebound)))
    throw failedPrecondition(
      `aardvark-dns did not serve ${addresses.join(", ")} port ${port} after it started`,
    );
}

/** Applies `nft -f` input (one transaction). */
async function nft(input: string): Promise<void> {
  const r = await execProgram("nft", ["-f", "-"], {
    input,
    signal: AbortSignal.timeout(30_000),
    pkg: "nftables",
  });
  if (r.code !== 0) throw failedPrecondition(`nft failed: ${r.stderr.trim()}`);
}

/** The two servers of a store: their directories under the store's DNS directory and ports. */
const SERVERS = [
  { slot: "a", port: 10053 },
  { slot: "b", port: 10054 },
] as const;
type Server = (typeof SERVERS)[number];
/** Names the server that port 53 leads to now. */
const CURRENT_FILE = "current";

function currentServer(dir: string): Server | undefined {
  const slot = readTextIfExistsSync(join(dir, CURRENT_FILE))?.trim();
  return SERVERS.find((s) => s.slot === slot);
}

/** The store's nftables table (named after its DNS directory: one per store on the host). */
export function dnsTableName(dir: string): string {
  return dnsTableOf(createHash("sha256").update(resolve(dir)).digest("hex").slice(0, 8));
}

/** The states of a process's threads (`R`, `S`, `D`, …), from /proc/PID/task/TID/stat. */
function threadStates(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      // The state follows the command name, which is in parentheses and may hold anything.
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    });
  } catch (err) {
    // The process ended meanwhile: no threads.
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
}

/**
 * Whether a server has nothing left to answer: none of its sockets on `port` holds a query and
 * every thread of it sleeps (one that has read a query but not yet sent its answer is running).
 */
function idle(pid: number, gateways: readonly string[], port: number): boolean {
  const queued = [...udpSockets(gateways, port).values()].some((l) => l.some((s) => s.queued > 0));
  return !queued && threadStates(pid).every((st) => st === "S");
}

const PORTS = SERVERS.map((s) => s.port);

/**
 * Makes the store's name resolution serve the given networks (those with containers to resolve),
 * stopping it when there is nothing left to serve; returns once the new names are answered.
 *
 * aardvark-dns 1.4 closes and rebinds every socket on a reload, so a query that comes meanwhile
 * — for any name, on any network of the store — is refused or dropped, and the client asks again
 * only seconds later (2.5 s for busybox and musl, 5 s for glibc). So a store has two servers, on
 * ports 10053 and 10054 of each gateway, and nftables rewrites port 53 of each gateway to the
 * current one's (`firewall.ts`, stateless, so a client's later queries from the same socket follow
 * too). A change loads the other server — no query goes there — waits until it listens with the
 * new files, and points port 53 at it in one transaction. The previous one answers what it had
 * already received, and once idle gets the same files, ready for the next change.
 *
 * The caller holds the store's DNS lock across reading the records and this call, so no two
 * processes signal the servers or rewrite the table at once, and the last to run has read the
 * records after every change before it. Nothing here blocks the event loop: an API server goes on
 * serving while a change waits for a server to rebind (up to seconds on a loaded host).
 */
export async function syncDns(
  dir: string,
  networks: readonly DnsNetwork[],
  binary = AARDVARK_BINARY,
): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The single server of earlier berth versions, on port 53 itself, and its files.
  if (existsSync(join(dir, PID_FILE))) await stopServer(dir);
  for (const f of readdirSync(dir))
    if (!f.startsWith(".") && f !== CURRENT_FILE && !SERVERS.some((s) => s.slot === f))
      rmSync(join(dir, f), { force: true });
  const table = dnsTableName(dir);
  if (networks.length === 0) {
    await nft(dnsTable(table, [], { current: 0, all: PORTS }));
    for (const s of SERVERS) await syncServer(join(dir, s.slot), s.port, [], binary);
    rmSync(join(dir, CURRENT_FILE), { force: true });
    return;
  }
  const previous = currentServer(dir);
  const next = SERVERS.find((s) => s !== previous) ?? SERVERS[0];
  await syncServer(join(dir, next.slot), next.port, networks, binary);
  const gateways = [...new Set(networks.map((n) => n.gateway))];
  await nft(dnsTable(table, gateways, { current: next.port, all: PORTS }));
  writeFileSync(join(dir, `.${CURRENT_FILE}.tmp`), next.slot);
  renameSync(join(dir, `.${CURRENT_FILE}.tmp`), join(dir, CURRENT_FILE));
  if (previous === undefined) return;
  const prevDir = join(dir, previous.slot);
  const pid = serverPid(prevDir);
  if (pid === undefined) return;
  // Idle twice in a row, 5 ms apart: what reached it before the switch is answered.
  let quiet = 0;
  await waitUntil(READY_MS, () => {
    quiet = idle(pid, gateways, previous.port) ? quiet + 1 : 0;
    return quiet >= 2;
  });
  await syncServer(prevDir, previous.port, networks, binary);
}
