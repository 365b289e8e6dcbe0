/**
 * The CNI protocol (spec 1.0.0): a plugin is a program run with CNI_COMMAND (ADD, DEL, CHECK),
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH in its environment and its network
 * configuration on stdin; it answers with a result (or an error object) on stdout. A network
 * configuration list runs its plugins in order for ADD and CHECK, each receiving the previous
 * plugin's result as `prevResult`, and in reverse order for DEL, each receiving the result ADD
 * gave (kept by the caller).
 * It never decides which plugins run (the network service builds the lists) and never keeps a
 * result.
 */
import { BerthError, internal, unavailable } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { execProgram } from "../sys/exec.js";

/** Where Debian's containernetworking-plugins installs the plugins. */
export const DEFAULT_CNI_PATH = "/usr/lib/cni";
export const CNI_VERSION = "1.0.0";

export type CniCommand = "ADD" | "DEL" | "CHECK";

/** A plugin's configuration inside a list: `type` names the plugin binary. */
export type PluginConfig = { readonly type: string } & Readonly<Record<string, unknown>>;

export interface NetworkConfigList {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly PluginConfig[];
}

export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  readonly sandbox?: string;
}

export interface CniIpConfig {
  /** CIDR: `10.88.0.2/16`. */
  readonly address: string;
  readonly gateway?: string;
  readonly interface?: number;
}

/** The part of a CNI result berth reads; the whole JSON is kept to chain and to DEL. */
export interface CniResult {
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIpConfig[];
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Runtime arguments of one invocation. */
export interface CniInvocation {
  readonly containerId: string;
  /** The network namespace file ("" for DEL when it is gone). */
  readonly netns: string;
  readonly ifname: string;
  /** `runtimeConfig` given to plugins that declare the matching capability (portMappings…). */
  readonly runtimeConfig?: Readonly<Record<string, unknown>>;
  readonly cniPath?: string;
}

/**
 * A plugin's error result: `{code, msg, details}`. CNI's code 11 ("try again later") is
 * Unavailable; every other failure of a plugin is the host's (Internal).
 */
export class CniError extends BerthError {
  constructor(
    readonly plugin: string,
    readonly code: number,
    readonly msg: string,
    readonly details: string,
  ) {
    super(
      code === 11 ? "Unavailable" : "Internal",
      `plugin type="${plugin}" failed (${code}): ${msg}${details ? `: ${details}` : ""}`,
    );
    this.name = "CniError";
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Decodes a plugin's result (the fields berth uses); throws on anything else. */
export function decodeResult(raw: unknown): CniResult {
  if (!isRecord(raw)) throw internal("CNI result is not an object");
  const interfaces: CniInterface[] = [];
  for (const i of Array.isArray(raw.interfaces) ? raw.interfaces : []) {
    if (!isRecord(i) || typeof i.name !== "string") continue;
    interfaces.push({
      name: i.name,
      ...(typeof i.mac === "string" ? { mac: i.mac } : {}),
      ...(typeof i.sandbox === "string" ? { sandbox: i.sandbox } : {}),
    });
  }
  const ips: CniIpConfig[] = [];
  for (const i of Array.isArray(raw.ips) ? raw.ips : []) {
    if (!isRecord(i) || typeof i.address !== "string") continue;
    ips.push({
      address: i.address,
      ...(typeof i.gateway === "string" ? { gateway: i.gateway } : {}),
      ...(typeof i.interface === "number" ? { interface: i.interface } : {}),
    });
  }
  return { interfaces, ips, raw };
}

/** The configuration one plugin of a list receives on stdin. */
export function pluginStdin(
  list: Pick<NetworkConfigList, "cniVersion" | "name">,
  plugin: PluginConfig,
  opts: { prevResult?: Readonly<Record<string, unknown>>; runtimeConfig?: Readonly<Record<string, unknown>> },
): string {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  // Only the capabilities a plugin declares are handed to it as runtimeConfig (CONVENTIONS.md).
  const caps = isRecord(plugin.capabilities) ? plugin.capabilities : {};
  const runtime: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts.runtimeConfig ?? {})) if (caps[k] === true) runtime[k] = v;
  if (Object.keys(runtime).length > 0) conf.runtimeConfig = runtime;
  if (opts.prevResult) conf.prevResult = opts.prevResult;
  return JSON.stringify(conf);
}

/** Runs one plugin. ADD returns its result; DEL and CHECK return undefined. */
export async function invokePlugin(
  command: CniCommand,
  stdin: string,
  plugin: string,
  inv: CniInvocation,
): Promise<CniResult | undefined> {
  const cniPath = inv.cniPath ?? DEFAULT_CNI_PATH;
  if (!/^[A-Za-z0-9_.-]+$/.test(plugin)) throw internal(`invalid CNI plugin name ${plugin}`);
  const r = await execProgram(`${cniPath}/${plugin}`, [], {
    input: stdin,
    pkg: "containernetworking-plugins",
    env: {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: command,
      CNI_CONTAINERID: inv.containerId,
      CNI_NETNS: inv.netns,
      CNI_IFNAME: inv.ifname,
      CNI_PATH: cniPath,
    },
  });
  let out: unknown;
  try {
    out = r.stdout.trim() === "" ? undefined : JSON.parse(r.stdout);
  } catch {
    out = undefined;
  }
  if (r.code !== 0) {
    if (isRecord(out) && typeof out.code === "number") {
      throw new CniError(
        plugin,
        out.code,
        typeof out.msg === "string" ? out.msg : "",
        typeof out.details === "string" ? out.details : "",
      );
    }
    throw unavailable(
      `CNI plugin ${plugin} ${command} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`,
    );
  }
  if (command !== "ADD") return undefined;
  if (out === undefined) throw internal(`CNI plugin ${plugin} ADD returned no result`);
  return decodeResult(out);
}

/**
 * ADD through a whole list. `onResult` is told each intermediate result as soon as a plugin
 * succeeded (so a crash later still leaves what DEL needs). On failure the plugins already run
 * are deleted again, newest first, and the error is rethrown.
 */
export async function addNetworkList(
  list: NetworkConfigList,
  inv: CniInvocation,
  onResult?: (r: CniResult) => void,
): Promise<CniResult> {
  let prev: CniResult | undefined;
  try {
    for (const p of list.plugins) {
      const stdin = pluginStdin(list, p, {
        ...(prev ? { prevResult: prev.raw } : {}),
        ...(inv.runtimeConfig ? { runtimeConfig: inv.runtimeConfig } : {}),
      });
      const r = await invokePlugin("ADD", stdin, p.type, inv);
      if (!r) throw internal(`CNI plugin ${p.type} ADD returned no result`);
      prev = r;
      onResult?.(r);
    }
  } catch (err) {
    await bestEffort("CNI DEL after a failed ADD", delNetworkList(list, inv, prev));
    throw err;
  }
  if (!prev) throw internal(`CNI network ${list.name} has no plugins`);
  return prev;
}

/** DEL through a list in reverse order. Every plugin is tried; the first error is thrown at the end. */
export async function delNetworkList(
  list: NetworkConfigList,
  inv: CniInvocation,
  prevResult?: CniResult,
): Promise<void> {
  let first: unknown;
  for (const p of [...list.plugins].reverse()) {
    const stdin = pluginStdin(list, p, {
      ...(prevResult ? { prevResult: prevResult.raw } : {}),
      ...(inv.runtimeConfig ? { runtimeConfig: inv.runtimeConfig } : {}),
    });
    try {
      await invokePlugin("DEL", stdin, p.type, inv);
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** CHECK through a list in order, each plugin given the ADD result. */
export async function checkNetworkList(
  list: NetworkConfigList,
  inv: CniInvocation,
  prevResult: CniResult,
): Promise<void> {
  for (const p of list.plugins) {
    const stdin = pluginStdin(list, p, {
      prevResult: prevResult.raw,
      ...(inv.runtimeConfig ? { runtimeConfig: inv.runtimeConfig } : {}),
    });
    await invokePlugin("CHECK", stdin, p.type, inv);
  }
}
