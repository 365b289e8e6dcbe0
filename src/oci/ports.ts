/**
 * Port specs as Docker reads them (go-connections' nat package), one parser for every place a
 * user names ports: `--expose` and the Dockerfile's `EXPOSE` (`PORT[-END][/PROTO]`), and `-p`
 * (`[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`, brackets around an IPv6 address). What they yield
 * are the keys of an image config's `ExposedPorts` (`80/tcp`), one per port of a range.
 * Pure: whether an address is a valid IP is the caller's check (it needs the host's resolver
 * rules); never decides which host port a binding gets.
 */
import { invalidArgument } from "../base/errors.js";

export const PORT_PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

/** The first and last port of a range (equal for one port). */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/**
 * nat.ParsePortRange: `N` or `N-M`, numbers 0–65535, M ≥ N. What is wrong when it is not one:
 * `syntax` (not digits, or digits joined by one `-`) or `range` (a number over 65535, M < N).
 */
export function parsePortRange(text: string): PortRange | "syntax" | "range" {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return "syntax";
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) return "range";
  return { start, end };
}

/** nat.SplitProtoPort: `80/udp` → port `80`, protocol `udp`; no (or an empty) protocol is tcp. */
function splitProtoPort(spec: string): { port: string; proto: string } {
  const slash = spec.indexOf("/");
  if (slash < 0) return { port: spec, proto: "tcp" };
  return { port: spec.slice(0, slash), proto: spec.slice(slash + 1).toLowerCase() || "tcp" };
}

/** A protocol of `PORT_PROTOCOLS` (Docker's validateProto, any case). */
function checkProto(proto: string): PortProtocol {
  const known = PORT_PROTOCOLS.find((p) => p === proto);
  if (!known) throw invalidArgument(`invalid proto: ${proto}`);
  return known;
}

/** The `ExposedPorts` keys of a range: `80/tcp`, `81/tcp`, … */
export function portKeys(range: PortRange, proto: PortProtocol): string[] {
  const out: string[] = [];
  for (let p = range.start; p <= range.end; p++) out.push(`${p}/${proto}`);
  return out;
}

/**
 * `PORT[-END][/PROTO]` as `--expose` and `EXPOSE` take it: the keys it exposes, each port of a
 * range its own (`7000-7002/udp` → `7000/udp`, `7001/udp`, `7002/udp`).
 */
export function exposedPortKeys(spec: string): string[] {
  const { port, proto } = splitProtoPort(spec);
  const range = parsePortRange(port);
  if (range === "syntax") throw invalidArgument(`invalid containerPort: ${spec}`);
  if (range === "range") throw invalidArgument(`invalid range specified for port: ${spec}`);
  return portKeys(range, checkProto(proto));
}

/** One `-p` value, read (nat.ParsePortSpec); the host part is absent when only a container port is given. */
export interface PublishSpec {
  /** "" when none is given; brackets removed. */
  readonly hostIp: string;
  /** The host port text as written ("" for none), and its range. */
  readonly hostPort: string;
  readonly host?: PortRange;
  /** The container port text as written, and its range. */
  readonly containerPort: string;
  readonly container: PortRange;
  readonly proto: PortProtocol;
}

/**
 * `-p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`: ranges on both sides must be of equal length,
 * unless the container side is one port (then the host range is a choice of ports). Ports are
 * 1–65535 here: a binding needs a real port on either side. `validIp` judges the address (checked
 * first, as Docker does).
 */
export function parsePublishSpec(
  raw: string,
  opts: { readonly validIp: (ip: string) => boolean },
): PublishSpec {
  const { port: spec, proto } = splitProtoPort(raw);
  let hostIp = "";
  let hostPort = "";
  let containerPort: string;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(spec);
  if (bracket) {
    hostIp = bracket[1] ?? "";
    const rest = (bracket[2] ?? "").split(":");
    containerPort = rest.pop() ?? "";
    hostPort = rest.join(":");
  } else {
    const parts = spec.split(":");
    containerPort = parts.pop() ?? "";
    if (parts.length > 0) hostPort = parts.pop() ?? "";
    hostIp = parts.join(":");
  }
  if (hostIp !== "" && !opts.validIp(hostIp)) throw invalidArgument(`invalid IP address: ${hostIp}`);
  const bindable = (text: string, what: string): PortRange => {
    const r = parsePortRange(text);
    if (typeof r === "string" || r.start < 1) throw invalidArgument(`invalid ${what}: ${text}`);
    return r;
  };
  const container = bindable(containerPort, "containerPort");
  const host = hostPort ? bindable(hostPort, "hostPort") : undefined;
  if (host && container.end !== container.start && host.end - host.start !== container.end - container.start)
    throw invalidArgument(
      `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
    );
  return { hostIp, hostPort, ...(host ? { host } : {}), containerPort, container, proto: checkProto(proto) };
}
