/**
 * The PORTS column of `ps`, as Docker's CLI writes it: ports sorted by container port, then host
 * address, host port and protocol; consecutive ports published on the same port number (or not
 * published) grouped per address and protocol into ranges (`0.0.0.0:3000-3002->3000-3002/tcp`,
 * `80-81/tcp`); a port published on another number shown alone after the groups
 * (`0.0.0.0:8080->80/tcp`).
 */
import type { Port } from "../../engine/types.js";

interface Group {
  first: number;
  last: number;
}

function formGroup(key: string, g: Group): string {
  const slash = key.lastIndexOf("/");
  const ip = slash > 0 ? key.slice(0, slash) : "";
  const proto = key.slice(slash + 1);
  let range = String(g.first);
  if (g.first !== g.last) range = `${range}-${g.last}`;
  if (ip !== "") range = `${ip}:${range}->${range}`;
  return `${range}/${proto}`;
}

function hostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function displayablePorts(ports: readonly Port[]): string {
  const sorted = [...ports].sort(
    (a, b) =>
      a.PrivatePort - b.PrivatePort ||
      (a.IP ?? "").localeCompare(b.IP ?? "") ||
      (a.PublicPort ?? 0) - (b.PublicPort ?? 0) ||
      a.Type.localeCompare(b.Type),
  );
  const groups = new Map<string, Group>();
  const result: string[] = [];
  const mappings: string[] = [];
  for (const p of sorted) {
    let key = `/${p.Type}`;
    const ip = p.IP ?? (p.PublicPort ? "0.0.0.0" : "");
    if (ip !== "") {
      if (p.PublicPort !== p.PrivatePort) {
        mappings.push(`${hostPort(ip, p.PublicPort ?? 0)}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${ip}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    else if (p.PrivatePort === g.last + 1) g.last = p.PrivatePort;
    else {
      result.push(formGroup(key, g));
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    }
  }
  // Remaining groups in the order their keys first appeared (a Map keeps insertion order; a key
  // replaced above keeps its first position, as Docker's list of keys does).
  for (const [key, g] of groups) result.push(formGroup(key, g));
  return [...result, ...mappings].join(", ");
}
