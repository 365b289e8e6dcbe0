/**
 * Published ports: which host ports a container asks for (HostConfig.PortBindings, and with
 * PublishAllPorts every exposed port), and whether a host port is free — not held by a
 * listening socket, and not forwarded by any CNI portmap rule on the host (another store's
 * containers publish through iptables without holding a socket).
 */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { invalidArgument } from "../base/errors.js";
import type { ContainerConfig, HostConfig } from "../engine/types.js";
import { execProgram } from "../sys/exec.js";

export type Proto = "tcp" | "udp" | "sctp";

export interface PortRequest {
  readonly containerPort: number;
  readonly proto: Proto;
  /** "" or an address (0.0.0.0 = every address). */
  readonly hostIp: string;
  /** The first and last acceptable host port; 0–0 lets berth choose. */
  readonly hostPortFrom: number;
  readonly hostPortTo: number;
}

function parsePortKey(key: string): { port: number; proto: Proto } {
  const [p = "", proto = "tcp"] = key.split("/");
  const port = Number(p);
  if (!/^\d+$/.test(p) || port < 1 || port > 65535) throw invalidArgument(`invalid port ${key}`);
  if (proto !== "tcp" && proto !== "udp" && proto !== "sctp") throw invalidArgument(`invalid proto ${proto}`);
  return { port, proto };
}

/** Every port binding a container asks for, in Docker's order (by container port, then proto). */
export function requestedPorts(config: ContainerConfig, hc: HostConfig): PortRequest[] {
  const bindings: Record<string, ReadonlyArray<{ HostIp?: string; HostPort?: string }>> = {};
  for (const [k, v] of Object.entries(hc.PortBindings ?? {})) bindings[k] = v ?? [];
  if (hc.PublishAllPorts) {
    for (const k of Object.keys(config.ExposedPorts ?? {})) {
      const key = k.includes("/") ? k : `${k}/tcp`;
      if (!bindings[key] || bindings[key].length === 0) bindings[key] = [{ HostIp: "", HostPort: "" }];
    }
  }
  const out: PortRequest[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const { port, proto } = parsePortKey(key);
    for (const b of list) {
      const hp = b.HostPort ?? "";
      let from = 0;
      let to = 0;
      // "0", as "", asks for a port of the ephemeral range (Docker's; Testcontainers sends it).
      if (hp !== "" && hp !== "0") {
        const m = /^(\d+)(?:-(\d+))?$/.exec(hp);
        if (!m) throw invalidArgument(`invalid hostPort: ${hp}`);
        from = Number(m[1]);
        to = m[2] ? Number(m[2]) : from;
        if (from < 1 || to > 65535 || to < from) throw invalidArgument(`invalid hostPort: ${hp}`);
      }
      out.push({ containerPort: port, proto, hostIp: b.HostIp ?? "", hostPortFrom: from, hostPortTo: to });
    }
  }
  return out.sort((a, b) => a.containerPort - b.containerPort || a.proto.localeCompare(b.proto));
}

/** Whether a socket can be bound at ip:port now (nothing else listens there). */
export function canBind(ip: string, port: number, proto: Proto): Promise<boolean> {
  const host = ip === "" ? "0.0.0.0" : ip;
  if (proto === "udp") {
    return new Promise((resolve) => {
      const s = createSocket(host.includes(":") ? "udp6" : "udp4");
      s.once("error", () => {
        s.close();
        resolve(false);
      });
      s.bind({ address: host, port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  }
  if (proto === "sctp") return Promise.resolve(true);
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel considers free on ip (its ephemeral range, as Docker's allocator uses). */
export function ephemeralPort(ip: string, proto: Proto): Promise<number> {
  const host = ip === "" ? "0.0.0.0" : ip;
  if (proto === "udp") {
    return new Promise((resolve, reject) => {
      const s = createSocket(host.includes(":") ? "udp6" : "udp4");
      s.once("error", reject);
      s.bind({ address: host, port: 0 }, () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ host, port: 0 }, () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** "tcp/3000" for every host port a CNI portmap rule forwards on this host (any store). */
export async function forwardedHostPorts(): Promise<Set<string>> {
  const r = await execProgram("iptables-save", ["-t", "nat"], { pkg: "iptables" });
  const out = new Set<string>();
  if (r.code !== 0) return out;
  for (const line of r.stdout.split("\n")) {
    if (!line.startsWith("-A CNI-HOSTPORT-DNAT ")) continue;
    const proto = /-p (tcp|udp|sctp)\b/.exec(line)?.[1];
    const ports = /--dports (\S+)/.exec(line)?.[1];
    if (!proto || !ports) continue;
    for (const p of ports.split(",")) {
      const [a = "", b] = p.split(":");
      const from = Number(a);
      const to = b ? Number(b) : from;
      for (let n = from; n <= to && n - from < 65536; n++) out.add(`${proto}/${n}`);
    }
  }
  return out;
}
