/**
 * Network settings of this machine, Docker's daemon.json keys read from /etc/berth/daemon.json
 * (or BERTH_DAEMON_CONFIG): `bridge` (the default network's device), `bip` (its gateway address
 * and prefix, `172.17.0.1/16`), `default-address-pools` (`[{"base": "172.18.0.0/16", "size":
 * 16}]`, where the default network and `network create` find subnets). BERTH_BRIDGE, BERTH_BIP
 * and BERTH_DEFAULT_ADDRESS_POOLS (the same JSON) override them.
 *
 * With no `bridge` setting the default network's device is named after the store: `berth0` for
 * the default root, `berth-<8 hex of the root's path hash>` for any other, so that stores side by
 * side each have a bridge of their own and never fight over one device's address.
 */
import { readFileSync } from "node:fs";
import { errnoCode, invalidArgument } from "../base/errors.js";
import { sha256Hex } from "../base/sha256.js";
import { DEFAULT_DAEMON_CONFIG } from "../registry/settings.js";
import { formatIPv4, parseIPv4, parseSubnet, type Subnet } from "./ipnet.js";

export interface AddressPool {
  readonly base: Subnet;
  readonly size: number;
}

export interface NetworkSettings {
  /** The default network's bridge device. */
  readonly bridge: string;
  /** Whether `bridge` was configured (daemon.json or BERTH_BRIDGE) rather than named after the store. */
  readonly bridgeConfigured: boolean;
  /** The default network's subnet, or undefined to choose one (172.17.0.0/16 when free). */
  readonly bip?: { readonly subnet: Subnet; readonly gateway: string };
  readonly pools: readonly AddressPool[];
}

export const DEFAULT_BRIDGE = "berth0";

/**
 * Host-wide state shared by every store on the machine (a tmpfs, like the bridges and firewall
 * rules it describes): the lock under which bridges are set up and host ports claimed.
 */
export const HOST_STATE_DIR = "/run/berth-host";

/** The default network's device of the store at `root` when no setting names one. */
export function storeBridgeName(root: string, defaultRoot: string): string {
  if (root === defaultRoot) return DEFAULT_BRIDGE;
  // sha256Hex, not node:crypto: every command opening the store derives this name.
  return `berth-${sha256Hex(root).slice(0, 8)}`;
}

/** Docker's default pools: 172.17-31/16, then 192.168.0.0/16 in /20s. */
export const DEFAULT_POOLS: readonly AddressPool[] = [
  { base: parseSubnet("172.17.0.0/16"), size: 16 },
  { base: parseSubnet("172.18.0.0/16"), size: 16 },
  { base: parseSubnet("172.19.0.0/16"), size: 16 },
  { base: parseSubnet("172.20.0.0/14"), size: 16 },
  { base: parseSubnet("172.24.0.0/14"), size: 16 },
  { base: parseSubnet("172.28.0.0/14"), size: 16 },
  { base: parseSubnet("192.168.0.0/16"), size: 20 },
];

/** A Linux interface name: at most 15 bytes, no "/", blank or ":". */
export const DEVICE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

function parseBip(text: string, where: string) {
  const [addr = "", len = ""] = text.split("/");
  if (parseIPv4(addr) === undefined || !/^\d{1,2}$/.test(len))
    throw invalidArgument(`${where}: invalid bip ${text}`);
  const subnet = parseSubnet(text, { loose: true });
  return { subnet, gateway: formatIPv4(parseIPv4(addr) ?? 0) };
}

function parsePools(v: unknown, where: string): AddressPool[] {
  if (!Array.isArray(v)) throw invalidArgument(`${where}: default-address-pools must be a list`);
  return v.map((p) => {
    if (typeof p !== "object" || p === null || !("base" in p) || !("size" in p))
      throw invalidArgument(`${where}: each default-address-pools entry needs base and size`);
    const { base, size } = p;
    if (
      typeof base !== "string" ||
      typeof size !== "number" ||
      !Number.isInteger(size) ||
      size < 1 ||
      size > 30
    )
      throw invalidArgument(`${where}: invalid default-address-pools entry`);
    return { base: parseSubnet(base), size };
  });
}

export interface LoadSettingsOptions {
  /** The store's root and the default root: the default bridge's name is derived from them. */
  readonly root: string;
  readonly defaultRoot: string;
}

export function loadNetworkSettings(
  env: Readonly<Record<string, string | undefined>>,
  opts: LoadSettingsOptions,
): NetworkSettings {
  const path = env.BERTH_DAEMON_CONFIG || DEFAULT_DAEMON_CONFIG;
  let doc: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) doc = { ...parsed };
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw invalidArgument(`cannot read ${path}: ${String(err)}`, err);
  }
  let bridge: string | undefined;
  if (typeof doc.bridge === "string" && doc.bridge !== "") bridge = doc.bridge;
  if (env.BERTH_BRIDGE) bridge = env.BERTH_BRIDGE;
  const bridgeConfigured = bridge !== undefined;
  bridge ??= storeBridgeName(opts.root, opts.defaultRoot);
  if (!DEVICE_NAME.test(bridge)) throw invalidArgument(`invalid bridge device name ${bridge}`);
  let bip: NetworkSettings["bip"];
  if (typeof doc.bip === "string" && doc.bip !== "") bip = parseBip(doc.bip, path);
  if (env.BERTH_BIP) bip = parseBip(env.BERTH_BIP, "BERTH_BIP");
  let pools: AddressPool[] = [...DEFAULT_POOLS];
  if (doc["default-address-pools"] !== undefined) pools = parsePools(doc["default-address-pools"], path);
  if (env.BERTH_DEFAULT_ADDRESS_POOLS) {
    let v: unknown;
    try {
      v = JSON.parse(env.BERTH_DEFAULT_ADDRESS_POOLS);
    } catch (err) {
      throw invalidArgument("BERTH_DEFAULT_ADDRESS_POOLS is not valid JSON", err);
    }
    pools = parsePools(v, "BERTH_DEFAULT_ADDRESS_POOLS");
  }
  return { bridge, bridgeConfigured, ...(bip ? { bip } : {}), pools };
}
