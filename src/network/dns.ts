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
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * Makes the server's configuration the given networks (those with containers to resolve) and
 * has it reload — starting it when needed, stopping it when there is nothing left to serve.
 */
export function syncDns(dir: string, networks: readonly DnsNetwork[], binary = AARDVARK_BINARY): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const wanted = new Set(networks.map((n) => n.name));
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
    if (pid !== undefined) process.kill(pid, "SIGTERM");
    rmSync(join(dir, PID_FILE), { force: true });
    return;
  }
  if (pid !== undefined) {
    process.kill(pid, "SIGHUP");
    return;
  }
  // `run` forks the server and returns once it is ready (it writes its pid file itself).
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
}
