/**
 * Where a reference's registry lives: the host to connect to, plain HTTP or HTTPS, and the key
 * its credentials are stored under in Docker's config.json.
 *
 * Docker's rules (moby registry/config.go, docker/cli registry helpers): `docker.io` names are
 * served by `registry-1.docker.io` and their credentials are kept under
 * `https://index.docker.io/v1/`; loopback registries (localhost, 127.0.0.0/8, ::1) and those
 * configured as insecure are spoken to over plain HTTP, every other one over HTTPS.
 * Pure: it never connects.
 */
import { invalidArgument } from "../base/errors.js";
import { DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN } from "../oci/reference.js";

/** The registry host that serves `docker.io` images. */
export const DOCKER_HUB_HOST = "registry-1.docker.io";
/** The key Docker stores Docker Hub credentials under (docker/cli `registry.IndexServer`). */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/** A registry as the client talks to it. */
export interface RegistryEndpoint {
  /** The domain as the reference names it: `docker.io`, `127.0.0.1:5000`. */
  readonly domain: string;
  /** host[:port] connected to: `registry-1.docker.io`, `127.0.0.1:5000`. */
  readonly host: string;
  readonly scheme: "https" | "http";
  /** `scheme://host`, without a trailing slash. */
  readonly baseUrl: string;
}

export interface EndpointOptions {
  /**
   * Registries spoken to over plain HTTP besides loopback ones: `host`, `host:port` or an IPv4
   * CIDR (`10.0.0.0/8`), as Docker's `insecure-registries` setting takes them.
   */
  readonly insecureRegistries?: readonly string[];
}

/** The host part of `host[:port]` (brackets of an IPv6 literal removed). */
export function hostnameOf(domain: string): string {
  if (domain.startsWith("[")) {
    const end = domain.indexOf("]");
    return end === -1 ? domain : domain.slice(1, end);
  }
  const colon = domain.lastIndexOf(":");
  return colon === -1 ? domain : domain.slice(0, colon);
}

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

function inCidr(ip: number, cidr: string): boolean {
  const [net, bitsText] = cidr.split("/");
  const base = ipv4(net ?? "");
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  if (bits === 0) return true;
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  return (ip & mask) === (base & mask);
}

/** True for registries on this machine: `localhost`, 127.0.0.0/8 and `::1`, with any port. */
export function isLoopbackRegistry(domain: string): boolean {
  const host = hostnameOf(domain).toLowerCase();
  if (host === "localhost" || host === "::1") return true;
  const ip = ipv4(host);
  return ip !== undefined && ip >>> 24 === 127;
}

/** True when the registry is spoken to over plain HTTP. */
export function isInsecureRegistry(domain: string, insecure: readonly string[] = []): boolean {
  if (isLoopbackRegistry(domain)) return true;
  const host = hostnameOf(domain);
  const ip = ipv4(host);
  for (const entry of insecure) {
    const e = entry
      .trim()
      .replace(/^https?:\/\//, "")
      .replace(/\/+$/, "");
    if (e === "") continue;
    if (e === domain || e === host) return true;
    if (ip !== undefined && e.includes("/") && inCidr(ip, e)) return true;
  }
  return false;
}

/** The endpoint for a reference's domain. */
export function resolveEndpoint(domain: string, opts: EndpointOptions = {}): RegistryEndpoint {
  if (domain === "") throw invalidArgument("registry domain is empty");
  if (domain === DEFAULT_DOMAIN || domain === LEGACY_DEFAULT_DOMAIN) {
    return {
      domain: DEFAULT_DOMAIN,
      host: DOCKER_HUB_HOST,
      scheme: "https",
      baseUrl: `https://${DOCKER_HUB_HOST}`,
    };
  }
  const scheme = isInsecureRegistry(domain, opts.insecureRegistries) ? "http" : "https";
  return { domain, host: domain, scheme, baseUrl: `${scheme}://${domain}` };
}

/**
 * The key of a registry in config.json `auths` (docker/cli `registry.GetAuthConfigKey`): Docker
 * Hub's is `https://index.docker.io/v1/`, any other registry's is its host[:port].
 */
export function credentialKey(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === LEGACY_DEFAULT_DOMAIN ? DOCKER_HUB_AUTH_KEY : domain;
}

/**
 * A server address as `login`/`logout` take it (`https://host:5000/v2/`, `host:5000`, Docker
 * Hub's URL) reduced to the registry domain (docker/cli `ConvertToHostname`); Docker Hub's
 * addresses become `docker.io`.
 */
export function domainOfServerAddress(address: string): string {
  let s = address.trim();
  s = s.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, "");
  const slash = s.indexOf("/");
  if (slash !== -1) s = s.slice(0, slash);
  if (s === LEGACY_DEFAULT_DOMAIN || s === DEFAULT_DOMAIN || s === DOCKER_HUB_HOST) return DEFAULT_DOMAIN;
  return s;
}
