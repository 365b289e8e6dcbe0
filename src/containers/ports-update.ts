/**
 * `container update --publish-add/--publish-rm`: the new HostConfig.PortBindings of a container
 * from the bindings to add and remove. Pure: which host ports a running container really gets is
 * the network service's, at the change.
 */
import { isIPv4 } from "node:net";
import { conflict, invalidArgument } from "../base/errors.js";
import type { ContainerPortsUpdate, HostConfig, PortBinding } from "../engine/types.js";

/** A port the container publishes now (running): for removing a binding by the port it got. */
export interface PublishedNow {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly proto: string;
}

const PORT_KEY = /^(\d+)\/(tcp|udp|sctp)$/;
const HOST_PORT = /^(\d+)(?:-(\d+))?$/;

function checkKey(key: string): void {
  const m = PORT_KEY.exec(key);
  const port = Number(m?.[1]);
  if (!m || port < 1 || port > 65535)
    throw invalidArgument(`invalid port ${key}: PORT/tcp|udp|sctp expected`);
}

function checkBinding(b: PortBinding): void {
  const ip = b.HostIp ?? "";
  if (ip !== "" && !isIPv4(ip))
    throw invalidArgument(`invalid IP address: ${ip} (berth publishes IPv4 only)`);
  const hp = b.HostPort ?? "";
  // "0", as "", asks for a port of the ephemeral range.
  if (hp === "" || hp === "0") return;
  const m = HOST_PORT.exec(hp);
  const from = Number(m?.[1]);
  const to = m?.[2] ? Number(m[2]) : from;
  if (!m || from < 1 || to > 65535 || to < from) throw invalidArgument(`invalid hostPort: ${hp}`);
}

const anyIp = (ip: string | undefined): string => (ip === undefined || ip === "" ? "0.0.0.0" : ip);

/** `127.0.0.1:8080:80/tcp` as the user wrote it (for messages). */
export function bindingText(key: string, b: PortBinding): string {
  const host = b.HostPort
    ? `${b.HostIp ? `${b.HostIp}:` : ""}${b.HostPort}:`
    : b.HostIp
      ? `${b.HostIp}::`
      : "";
  return `${host}${key}`;
}

function covers(b: PortBinding, port: number): boolean {
  const m = HOST_PORT.exec(b.HostPort ?? "");
  if (!m) return (b.HostPort ?? "") === "";
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  return port >= from && port <= to;
}

/**
 * The HostConfig after removing then adding bindings. Removing a binding the container does not
 * have, or adding one it has, is an error naming it; nothing is changed then. A binding of a
 * running container whose host port was chosen by berth (`-p 80`, a range) can be removed by the
 * port it got (`published`).
 */
export function planPortsUpdate(
  hc: HostConfig,
  req: ContainerPortsUpdate,
  opts: { readonly name: string; readonly published: readonly PublishedNow[] },
): HostConfig {
  const bindings: Record<string, PortBinding[]> = {};
  for (const [k, v] of Object.entries(hc.PortBindings ?? {})) if (v && v.length > 0) bindings[k] = [...v];
  for (const [key, list] of Object.entries(req.Remove ?? {})) {
    checkKey(key);
    for (const b of list) checkBinding(b);
    const cur = bindings[key] ?? [];
    if (list.length === 0) {
      if (cur.length === 0) throw invalidArgument(`container ${opts.name} does not publish ${key}`);
      delete bindings[key];
      continue;
    }
    for (const b of list) {
      const ipMatches = (c: PortBinding) => (b.HostIp ?? "") === "" || anyIp(c.HostIp) === anyIp(b.HostIp);
      let i = cur.findIndex((c) => (c.HostPort ?? "") === (b.HostPort ?? "") && ipMatches(c));
      if (i < 0 && b.HostPort) {
        // A binding berth chose the host port of: matched by the port the container got.
        const port = Number(b.HostPort);
        const [containerPort, proto] = key.split("/");
        const got = opts.published.some(
          (p) =>
            p.hostPort === port &&
            String(p.containerPort) === containerPort &&
            p.proto === proto &&
            ((b.HostIp ?? "") === "" || p.hostIp === anyIp(b.HostIp)),
        );
        if (got) i = cur.findIndex((c) => covers(c, port) && ipMatches(c));
      }
      if (i < 0) throw invalidArgument(`container ${opts.name} does not publish ${bindingText(key, b)}`);
      cur.splice(i, 1);
    }
    if (cur.length > 0) bindings[key] = cur;
    else delete bindings[key];
  }
  for (const [key, list] of Object.entries(req.Add ?? {})) {
    checkKey(key);
    const cur = bindings[key] ?? [];
    for (const b of list) {
      checkBinding(b);
      const same = cur.some(
        (c) => (b.HostPort ?? "") !== "" && c.HostPort === b.HostPort && anyIp(c.HostIp) === anyIp(b.HostIp),
      );
      if (same) throw conflict(`container ${opts.name} already publishes ${bindingText(key, b)}`);
      cur.push({ HostIp: b.HostIp ?? "", HostPort: b.HostPort ?? "" });
    }
    if (cur.length > 0) bindings[key] = cur;
  }
  return { ...hc, PortBindings: bindings };
}
