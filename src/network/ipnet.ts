/**
 * IPv4 addresses and subnets as numbers: parsing, containment, overlap and the n-th address of a
 * subnet. Pure computation for subnet allocation, gateways and `--ip` checks.
 */
import { invalidArgument } from "../base/errors.js";

export interface Subnet {
  /** The network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefix);
}

/** `10.1.0.0/16`; a CIDR with host bits set (`10.1.2.3/16`) is refused unless `loose`. */
export function parseSubnet(text: string, opts: { loose?: boolean } = {}): Subnet {
  const [addr = "", len = ""] = text.split("/");
  const ip = parseIPv4(addr);
  const prefix = /^\d{1,2}$/.test(len) ? Number(len) : Number.NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32))
    throw invalidArgument(`invalid CIDR address: ${text}`);
  const base = Number((BigInt(ip) & BigInt(mask(prefix))).toString());
  if (base !== ip && !opts.loose)
    throw invalidArgument(`invalid subnet ${text}: it should be ${formatIPv4(base)}/${prefix}`);
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIPv4(s.base)}/${s.prefix}`;
}

export function subnetSize(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function contains(s: Subnet, ip: number): boolean {
  return ip >= s.base && ip < s.base + subnetSize(s);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + subnetSize(b) && b.base < a.base + subnetSize(a);
}

/** The n-th address of the subnet (1 = the first host address, Docker's default gateway). */
export function nthAddress(s: Subnet, n: number): number {
  return s.base + n;
}

/** The subnets of size `/size` carved from a pool, in order. */
export function* carve(pool: Subnet, size: number): Generator<Subnet> {
  if (size < pool.prefix) return;
  const step = 2 ** (32 - size);
  for (let b = pool.base; b < pool.base + subnetSize(pool); b += step) yield { base: b, prefix: size };
}
