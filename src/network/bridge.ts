/**
 * A bridge network's host side, set up once and kept across containers: the bridge device with
 * a MAC address of its own and the network's gateway address, and its static firewall rules (`firewall.ts`). Containers are
 * then attached with the CNI bridge plugin alone (a veth pair and an address), no per-container
 * firewall rule. A marker file per bridge (on the runroot, a tmpfs like the device and the rules)
 * records what was set up, so that the attach path checks readiness with three file reads and no
 * program. Setting up and tearing down run under the host-wide network lock (the caller's).
 * It never attaches a container (the CNI bridge plugin does) and never takes the network lock
 * itself.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { internal } from "../base/errors.js";
import { execProgram } from "../sys/exec.js";
import { readTextIfExistsSync, writeFileAtomic } from "../sys/fs.js";
import { parseIptablesSave, setupRules, teardownRules } from "./firewall.js";
import { formatSubnet, parseIPv4, parseSubnet, type Subnet } from "./ipnet.js";

export interface BridgeSpec {
  readonly bridge: string;
  /** CIDR: `172.18.0.0/16`. */
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
}

export interface HostNet {
  readonly dev: string;
  readonly subnet: Subnet;
}

export interface HostAddress extends HostNet {
  /** `172.18.0.1/16`. */
  readonly cidr: string;
}

function le32(hex: string): number {
  const n = Number.parseInt(hex, 16);
  // /proc/net/route prints addresses in host (little-endian) byte order: reverse the bytes.
  return (
    (n & 0xff) * 2 ** 24 + ((n >>> 8) & 0xff) * 2 ** 16 + ((n >>> 16) & 0xff) * 2 ** 8 + ((n >>> 24) & 0xff)
  );
}

/** IPv4 routes of the host (from /proc/net/route) with their device; the default route left out. */
export function hostRoutes(): HostNet[] {
  // Absent only without IPv4 networking: then there are no routes.
  const text = readTextIfExistsSync("/proc/net/route") ?? "";
  const out: HostNet[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const mask = le32(f[7] ?? "0");
    if (mask === 0) continue;
    let prefix = 0;
    for (let m = mask; m > 0 && m & 0x80000000; m = (m << 1) >>> 0) prefix++;
    out.push({ dev: f[0] ?? "", subnet: { base: le32(f[1] ?? "0"), prefix } });
  }
  return out;
}

/** The IPv4 addresses of every device, up or down, as the subnets they make (`ip -j -4 addr`). */
export async function hostAddresses(dev?: string): Promise<HostAddress[]> {
  const r = await execProgram("ip", ["-j", "-4", "addr", "show", ...(dev ? ["dev", dev] : [])], {
    pkg: "iproute2",
  });
  if (r.code !== 0) throw internal(`ip addr show failed: ${r.stderr.trim()}`);
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch (err) {
    throw internal("ip -j addr show printed no JSON", err);
  }
  const out: HostAddress[] = [];
  for (const link of Array.isArray(doc) ? doc : []) {
    if (typeof link !== "object" || link === null || !("ifname" in link) || typeof link.ifname !== "string")
      continue;
    const infos: unknown = "addr_info" in link ? link.addr_info : [];
    for (const a of Array.isArray(infos) ? infos : []) {
      if (typeof a !== "object" || a === null || !("local" in a) || !("prefixlen" in a)) continue;
      if (typeof a.local !== "string" || typeof a.prefixlen !== "number") continue;
      if (parseIPv4(a.local) === undefined) continue;
      const cidr = `${a.local}/${a.prefixlen}`;
      out.push({ dev: link.ifname, cidr, subnet: parseSubnet(cidr, { loose: true }) });
    }
  }
  return out;
}

function markerText(s: BridgeSpec): string {
  return `${s.subnet} ${s.gateway} ${s.internal ? "internal" : "external"}\n`;
}

/**
 * Whether the device's MAC address was set explicitly (`addr_assign_type` 3). A bridge whose
 * address was not takes the lowest MAC of its ports, so it changes as containers join and leave;
 * the containers' ARP entries for the gateway then name an address nobody answers to, and what
 * they send the gateway (DNS queries to aardvark-dns, traffic to the host) is lost until the entry
 * is probed again, seconds later. Docker gives its bridges an address of their own for this.
 */
function macPinned(bridge: string): boolean {
  return readTextIfExistsSync(`/sys/class/net/${bridge}/addr_assign_type`)?.trim() === "3";
}

/** A random locally administered unicast MAC address (as Docker makes for its bridges). */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** Whether the bridge is set up as `spec` says: device, its own MAC, route of its subnet, and our marker. */
export function bridgeReady(spec: BridgeSpec, markerDir: string): boolean {
  if (!existsSync(`/sys/class/net/${spec.bridge}`) || !macPinned(spec.bridge)) return false;
  if (readTextIfExistsSync(join(markerDir, spec.bridge)) !== markerText(spec)) return false;
  return hostRoutes().some((r) => r.dev === spec.bridge && formatSubnet(r.subnet) === spec.subnet);
}

async function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await execProgram(cmd, args, {
    pkg: cmd.startsWith("ip") && !cmd.startsWith("iptables") ? "iproute2" : "iptables",
    ...(input !== undefined ? { input } : {}),
  });
  if (r.code !== 0) throw internal(`${cmd} ${args.join(" ")} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/**
 * Puts the bridge in place: the device (created when missing), exactly the gateway address (an
 * address left by an earlier run is replaced), up, and the firewall rules. Idempotent.
 */
export async function setUpBridge(spec: BridgeSpec, markerDir: string): Promise<void> {
  const prefix = spec.subnet.split("/")[1] ?? "";
  const want = `${spec.gateway}/${prefix}`;
  const exists = existsSync(`/sys/class/net/${spec.bridge}`);
  const have = exists ? (await hostAddresses(spec.bridge)).map((a) => a.cidr) : [];
  const batch: string[] = [];
  if (!exists) batch.push(`link add name ${spec.bridge} address ${randomMac()} type bridge`);
  else if (!macPinned(spec.bridge)) {
    // A bridge made without an address of its own keeps the one it has now, from now on.
    const mac = readFileSync(`/sys/class/net/${spec.bridge}/address`, "utf8").trim();
    batch.push(`link set ${spec.bridge} address ${mac}`);
  }
  if (!(have.length === 1 && have[0] === want)) {
    if (have.length > 0) batch.push(`addr flush dev ${spec.bridge}`);
    batch.push(`addr add ${want} dev ${spec.bridge}`);
  }
  batch.push(`link set ${spec.bridge} up`);
  await run("ip", ["-batch", "-"], `${batch.join("\n")}\n`);
  const dump = parseIptablesSave(await run("iptables-save", []));
  await run("iptables-restore", ["-w", "--noflush"], setupRules(spec, dump));
  await mkdir(markerDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(markerDir, spec.bridge), markerText(spec), 0o600);
}

/** Removes the bridge device and its firewall rules; what is already gone is skipped. */
export async function tearDownBridge(bridge: string, markerDir: string): Promise<void> {
  await rm(join(markerDir, bridge), { force: true });
  if (existsSync(`/sys/class/net/${bridge}`))
    await execProgram("ip", ["link", "del", bridge], { pkg: "iproute2" });
  const dump = parseIptablesSave(await run("iptables-save", []));
  const text = teardownRules(bridge, dump);
  if (text !== "") await run("iptables-restore", ["-w", "--noflush"], text);
}
