/**
 * Networks: the predefined `bridge` (the default network, a host bridge device through CNI),
 * `host` and `none`, user-defined bridge networks, and attaching containers to them.
 *
 * Lifecycle of an attachment: `configure` records a container's endpoints at create (or
 * `network connect`); `attach` at start marks them `attaching` (and records the host ports,
 * refusing taken ones) BEFORE anything is made on the host, creates the container's network
 * namespace (`<runroot>/netns/<id>`), runs the CNI ADD of each network's plugin list and records
 * each result; `detach` (stop, exit, rm, a failed start) runs CNI DEL with those results,
 * removes the namespace and clears the runtime state. `reconcile` at the start of every command
 * detaches what a killed process left behind.
 * It owns networks, endpoints and published ports; it never changes a container's record (the
 * container service does).
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  alreadyExists,
  conflict,
  errorMessage,
  failedPrecondition,
  forbidden,
  invalidArgument,
  isBerthError,
  notFound,
} from "../base/errors.js";
import { bestEffort, debug } from "../base/log.js";
import { findByIdNameOrPrefix } from "../base/lookup.js";
import type {
  ContainerConfig,
  EndpointSettings,
  Filters,
  HostConfig,
  NetworkContainer,
  NetworkCreateRequest,
  NetworkCreateResponse,
  NetworkInspect,
  NetworksPruneResponse,
  PortBinding,
} from "../engine/types.js";
import type { MetadataDb } from "../metadata/db.js";
import { type EventSink, NO_EVENTS } from "../metadata/events.js";
import {
  type EndpointRecord,
  NetworkMetadata,
  type NetworkRecord,
  type PublishedPort,
} from "../metadata/networks.js";
import { readdirIfExists, readTextIfExists, writeFileAtomic } from "../sys/fs.js";
import { LockDir } from "../sys/lock.js";
import { createNetns, removeNetns } from "../sys/netns.js";
import { pidExists } from "../sys/process.js";
import {
  type BridgeSpec,
  bridgeReady,
  type HostNet,
  hostAddresses,
  hostRoutes,
  setUpBridge,
  tearDownBridge,
} from "./bridge.js";
import {
  addNetworkList,
  CNI_VERSION,
  type CniResult,
  decodeResult,
  delNetworkList,
  invokePlugin,
  type NetworkConfigList,
  type PluginConfig,
  pluginStdin,
} from "./cni.js";
import { type DnsNetwork, syncDns } from "./dns.js";
import {
  carve,
  contains,
  formatIPv4,
  formatSubnet,
  nthAddress,
  overlaps,
  parseIPv4,
  parseSubnet,
  type Subnet,
} from "./ipnet.js";
import { canBind, ephemeralPort, forwardedHostPorts, type PortRequest, requestedPorts } from "./ports.js";
import { DEVICE_NAME, HOST_STATE_DIR, type NetworkSettings } from "./settings.js";

export const DEFAULT_NETWORK = "bridge";
const VALID_NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** How long an `attaching` endpoint of a live process is left alone by other commands. */
const ATTACH_GRACE_MS = 5 * 60_000;

export interface NetworkServiceDeps {
  readonly db: MetadataDb;
  /** `<runroot>/netns`. */
  readonly netnsDir: string;
  /** `<runroot>/cni`: host-local IPAM leases (`ipam/`) and build sandboxes. */
  readonly cniDir: string;
  /** `<runroot>/aardvark`: the DNS server's configuration. */
  readonly dnsDir: string;
  readonly settings: NetworkSettings;
  readonly cniPath?: string;
  readonly now?: () => number;
  /** Where network events (create, connect, disconnect, destroy, prune) go; none by default. */
  readonly events?: EventSink;
  /** Host-wide state shared with every other store (HOST_STATE_DIR unless a test says otherwise). */
  readonly hostStateDir?: string;
}

/**
 * What a stored CNI result records besides the result: the plugins its ADD ran, so that DEL runs
 * the same ones. A result stored without it came from the earlier plugin list (bridge with its
 * own masquerading, portmap, firewall), which DEL then runs.
 */
interface StoredResult {
  readonly plugins: readonly string[] | undefined;
  readonly result: CniResult | undefined;
}

function encodeStored(plugins: readonly PluginConfig[], r: CniResult): string {
  return JSON.stringify({ plugins: plugins.map((p) => p.type), result: r.raw });
}

function decodeStored(text: string): StoredResult {
  if (text === "") return { plugins: undefined, result: undefined };
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "object" && v !== null && "plugins" in v && Array.isArray(v.plugins) && "result" in v) {
      return {
        plugins: v.plugins.filter((p): p is string => typeof p === "string"),
        result: decodeResult(v.result),
      };
    }
    return { plugins: undefined, result: decodeResult(v) };
  } catch {
    return { plugins: undefined, result: undefined };
  }
}

/** What a container's attachment needs to know about it. */
export interface AttachTarget {
  readonly id: string;
  readonly name: string;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
}

/** The outcome of `attach`: the namespace to give runc and what the container's files need. */
export interface Attachment {
  readonly netnsPath: string;
  /** The container's address on its first network, without prefix. */
  readonly ip: string;
  /** Nameservers for resolv.conf: the first network's DNS server when it has one. */
  readonly nameservers: readonly string[];
}

/** A network mode that names a network (not none, host or container:…). */
export function isNetworkName(mode: string): boolean {
  return mode !== "none" && mode !== "host" && !mode.startsWith("container:");
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

export class NetworkService {
  readonly meta: NetworkMetadata;
  private readonly now: () => number;
  private readonly events: EventSink;

  constructor(readonly deps: NetworkServiceDeps) {
    this.meta = new NetworkMetadata(deps.db);
    this.events = deps.events ?? NO_EVENTS;
    this.now = deps.now ?? Date.now;
  }

  private get db(): MetadataDb {
    return this.deps.db;
  }

  netnsPath(id: string): string {
    return join(this.deps.netnsDir, id);
  }

  private ipamDir(): string {
    return join(this.deps.cniDir, "ipam");
  }

  private bridgeMarkers(): string {
    return join(this.deps.cniDir, "bridges");
  }

  /** Runs `fn` under the host-wide network lock (bridge set-up, subnets, host ports). */
  private withHostLock<T>(fn: () => Promise<T>): Promise<T> {
    return new LockDir(join(this.deps.hostStateDir ?? HOST_STATE_DIR, "locks")).with("network", fn);
  }

  // ---------------------------------------------------------------------------------------------
  // Records

  /**
   * Creates the predefined networks when missing; the default bridge follows the settings. Runs
   * as every command opens the engine: when all is in place (the usual case) it only reads, so
   * read-only commands take no write lock.
   */
  ensurePredefined(): void {
    const s = this.deps.settings;
    const inPlace = (): boolean => {
      const cur = this.meta.networkByName(DEFAULT_NETWORK);
      return (
        !!this.meta.networkByName("host") &&
        !!this.meta.networkByName("none") &&
        !!cur &&
        cur.bridge === s.bridge &&
        (!s.bip || cur.subnet === formatSubnet(s.bip.subnet))
      );
    };
    if (this.db.read(inPlace)) return;
    this.db.write(() => {
      const created = rfc3339(this.now());
      for (const [name, driver] of [
        ["host", "host"],
        ["none", "null"],
      ] as const) {
        if (!this.meta.networkByName(name)) {
          this.meta.insertNetwork({
            id: randomBytes(32).toString("hex"),
            name,
            driver,
            bridge: "",
            subnet: "",
            gateway: "",
            internal: false,
            dns: false,
            predefined: true,
            labels: {},
            options: {},
            created,
          });
        }
      }
      const cur = this.meta.networkByName(DEFAULT_NETWORK);
      const wantSubnet = s.bip ? formatSubnet(s.bip.subnet) : cur?.subnet;
      if (cur && cur.bridge === s.bridge && (wantSubnet === undefined || cur.subnet === wantSubnet)) return;
      const addressing = s.bip
        ? { subnet: formatSubnet(s.bip.subnet), gateway: s.bip.gateway }
        : cur?.subnet
          ? { subnet: cur.subnet, gateway: cur.gateway }
          : this.freeSubnet();
      if (!cur) {
        this.meta.insertNetwork({
          id: randomBytes(32).toString("hex"),
          name: DEFAULT_NETWORK,
          driver: "bridge",
          bridge: s.bridge,
          ...addressing,
          internal: false,
          dns: false,
          predefined: true,
          labels: {},
          options: {
            "com.docker.network.bridge.default_bridge": "true",
            "com.docker.network.bridge.enable_icc": "true",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            "com.docker.network.bridge.name": s.bridge,
            "com.docker.network.driver.mtu": "1500",
          },
          created,
        });
      } else if (this.meta.endpointsOn(cur.id).every((e) => e.state === "")) {
        this.meta.updateAddressing(cur.id, { bridge: s.bridge, ...addressing });
      }
    });
  }

  /**
   * A subnet from the address pools that no network of ours (but `except`), no host route and
   * none of `hostTaken` (addresses of the host's devices) overlaps.
   */
  private freeSubnet(opts: { hostTaken?: readonly Subnet[]; except?: string } = {}): {
    subnet: string;
    gateway: string;
  } {
    const taken: Subnet[] = [
      ...(opts.hostTaken ?? hostRoutes().map((r) => r.subnet)),
      ...this.meta
        .listNetworks()
        .filter((n) => n.subnet !== "" && n.id !== opts.except)
        .map((n) => parseSubnet(n.subnet, { loose: true })),
    ];
    for (const pool of this.deps.settings.pools) {
      for (const s of carve(pool.base, pool.size)) {
        if (taken.some((t) => overlaps(t, s))) continue;
        return { subnet: formatSubnet(s), gateway: formatIPv4(nthAddress(s, 1)) };
      }
    }
    throw failedPrecondition(
      "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
    );
  }

  private bridgeSpec(n: NetworkRecord): BridgeSpec {
    return { bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, internal: n.internal };
  }

  /** Subnets of the host's devices (addresses and routes) other than `bridge`. */
  private async hostTaken(bridge: string): Promise<Subnet[]> {
    return (await this.hostNets(bridge)).map((h) => h.subnet);
  }

  /** The host's devices' addresses and routes, other than `bridge`'s. */
  private async hostNets(bridge: string): Promise<HostNet[]> {
    const nets: HostNet[] = [...(await hostAddresses()), ...hostRoutes()];
    return nets.filter((h) => h.dev !== bridge);
  }

  /**
   * Tears down the bridges this store set up (its markers name them) that none of its networks
   * uses any more: the default network's device follows the settings, so a store opened with
   * another `bridge` setting (daemon.json, BERTH_BRIDGE) moves its default network to a new
   * device, and the old one would otherwise stay with the same subnet. Two devices with one
   * subnet make two routes, and the older one wins: the containers behind the newer device (or
   * another store's) would be unreachable, their published ports silent. Only a network without
   * attached containers moves (`ensurePredefined`), so nothing is attached to such a device.
   * Runs under the host-wide lock.
   */
  private async tearDownUnusedBridges(): Promise<void> {
    const used = new Set(this.meta.listNetworks().map((n) => n.bridge));
    for (const name of await readdirIfExists(this.bridgeMarkers())) {
      // A name starting with "." is an atomic write's temporary file, not a marker.
      if (used.has(name) || name.startsWith(".") || !DEVICE_NAME.test(name)) continue;
      await tearDownBridge(name, this.bridgeMarkers());
    }
  }

  /**
   * Makes sure a bridge network's device, address and firewall rules are in place before a
   * container is attached to it. Usually three file reads; otherwise, under the host-wide lock:
   * this store's bridges that no network uses any more are torn down; when the network's subnet
   * now overlaps an address or route of another device (Docker, Podman, another store, a VPN
   * came first), the default network moves to a free subnet (when nothing of ours is attached to
   * it, and `bip` does not set it) and any other network is refused — also the default network
   * whose `bip` overlaps: a second route to a subnet makes one of the two devices' containers
   * unreachable (the older route wins), so either this store's or the other device's published
   * ports would go silent. Then the device is created or re-addressed (a stale device keeps its
   * name and gets our address) and the rules written. Returns the network as it is now.
   */
  async ensureBridge(net: NetworkRecord): Promise<NetworkRecord> {
    if (net.driver !== "bridge" || net.bridge === "") return net;
    if (bridgeReady(this.bridgeSpec(net), this.bridgeMarkers())) return net;
    return this.withHostLock(async () => {
      let cur = this.meta.getNetwork(net.id) ?? net;
      if (bridgeReady(this.bridgeSpec(cur), this.bridgeMarkers())) return cur;
      await this.tearDownUnusedBridges();
      const nets = await this.hostNets(cur.bridge);
      const taken = nets.map((h) => h.subnet);
      const mine = parseSubnet(cur.subnet, { loose: true });
      const isDefault = cur.predefined && cur.name === DEFAULT_NETWORK;
      const clash = nets.find((h) => overlaps(h.subnet, mine));
      if (clash) {
        if (!isDefault || this.deps.settings.bip)
          throw failedPrecondition(
            `network ${cur.name}: its subnet ${cur.subnet}${isDefault && this.deps.settings.bip ? " (bip)" : ""} overlaps ${formatSubnet(clash.subnet)} of device ${clash.dev} on this host`,
          );
        const addressing = this.freeSubnet({ hostTaken: taken, except: cur.id });
        this.db.write(() => {
          const now = this.meta.getNetwork(cur.id);
          if (!now || now.subnet !== cur.subnet) return;
          if (this.meta.endpointsOn(cur.id).some((e) => e.state !== ""))
            throw failedPrecondition(
              `network ${cur.name}: its subnet ${cur.subnet} overlaps another device's, and containers are attached to it`,
            );
          this.meta.updateAddressing(cur.id, { bridge: cur.bridge, ...addressing });
        });
        cur = this.meta.getNetwork(cur.id) ?? cur;
      }
      await setUpBridge(this.bridgeSpec(cur), this.bridgeMarkers());
      return cur;
    });
  }

  /** A network by full ID, name, or unique ID prefix. */
  find(ref: string): NetworkRecord | undefined {
    return findByIdNameOrPrefix(ref, ref, {
      byId: (id) => this.meta.getNetwork(id),
      byName: (name) => this.meta.networkByName(name),
      idsByPrefix: (prefix) => this.meta.networkIdsByPrefix(prefix),
      ambiguous: (count) =>
        conflict(`network ${ref} is ambiguous (${count} matches found based on ID prefix)`),
    });
  }

  resolve(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  async create(req: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    const name = req.Name ?? "";
    if (name === "") throw invalidArgument("network name must be specified");
    if (!VALID_NETWORK_NAME.test(name))
      throw invalidArgument(`invalid network name "${name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]`);
    const driver = req.Driver || "bridge";
    if (driver !== "bridge") throw notFound(`plugin "${driver}" not found`);
    if (req.EnableIPv6) throw invalidArgument("IPv6 networks are not supported by berth yet");
    const configs = (req.IPAM?.Config ?? []).filter((c) => c.Subnet || c.Gateway || c.IPRange);
    if (configs.length > 1) throw invalidArgument("berth networks have one IPv4 subnet");
    const id = randomBytes(32).toString("hex");
    const options = { ...(req.Options ?? {}) };
    const bridge = options["com.docker.network.bridge.name"] ?? `br-${id.slice(0, 12)}`;
    if (!DEVICE_NAME.test(bridge)) throw invalidArgument(`invalid bridge name ${bridge}`);
    const cfg = configs[0];
    if (cfg && !cfg.Subnet && cfg.Gateway) throw invalidArgument("gateway requires a subnet (--subnet)");
    let fixed: { subnet: string; gateway: string } | undefined;
    if (cfg?.Subnet) {
      const subnet = parseSubnet(cfg.Subnet);
      if (subnet.prefix > 30) throw invalidArgument(`subnet ${cfg.Subnet} is too small`);
      let gateway = formatIPv4(nthAddress(subnet, 1));
      if (cfg.Gateway) {
        const gw = parseIPv4(cfg.Gateway);
        if (gw === undefined) throw invalidArgument(`invalid gateway address ${cfg.Gateway}`);
        if (!contains(subnet, gw))
          throw invalidArgument(
            `Invalid address ${cfg.Gateway}: It does not belong to any of this network's subnets`,
          );
        gateway = cfg.Gateway;
      }
      fixed = { subnet: formatSubnet(subnet), gateway };
    }
    const created = rfc3339(this.now());
    // Under the host-wide lock, so that no other store picks the same subnet meanwhile; the
    // bridge device is made at once (as Docker does), which shows the subnet to every store.
    await this.withHostLock(async () => {
      const taken = await this.hostTaken(bridge);
      const rec = this.db.write((): NetworkRecord => {
        if (this.meta.networkByName(name)) throw alreadyExists(`network with name ${name} already exists`);
        let addressing = fixed;
        if (addressing) {
          const s = parseSubnet(addressing.subnet);
          const ours = this.meta
            .listNetworks()
            .some((n) => n.subnet !== "" && overlaps(parseSubnet(n.subnet, { loose: true }), s));
          if (ours || taken.some((t) => overlaps(t, s)))
            throw failedPrecondition("Pool overlaps with other one on this address space");
        } else addressing = this.freeSubnet({ hostTaken: taken });
        const r: NetworkRecord = {
          id,
          name,
          driver,
          bridge,
          ...addressing,
          internal: req.Internal === true,
          dns: true,
          predefined: false,
          labels: { ...(req.Labels ?? {}) },
          options,
          created,
        };
        this.meta.insertNetwork(r);
        return r;
      });
      try {
        await setUpBridge(this.bridgeSpec(rec), this.bridgeMarkers());
      } catch (err) {
        this.db.write(() => this.meta.deleteNetwork(id));
        await bestEffort(
          `tearing down bridge ${bridge} of a network not created`,
          tearDownBridge(bridge, this.bridgeMarkers()),
        );
        throw err;
      }
      this.events.emit("network", "create", { ID: id, Attributes: { name, type: driver } });
    });
    return { Id: id, Warning: "" };
  }

  /** Network inspect, with the containers attached now. */
  inspect(ref: string): NetworkInspect {
    return this.toInspect(this.resolve(ref), true);
  }

  list(opts: { filters?: Filters } = {}): NetworkInspect[] {
    const f = opts.filters ?? {};
    for (const k of Object.keys(f))
      if (!["driver", "id", "label", "name", "scope", "type", "dangling"].includes(k))
        throw invalidArgument(`invalid filter '${k}'`);
    let nets = this.meta.listNetworks();
    const any = (vals: readonly string[] | undefined, pred: (v: string) => boolean) =>
      !vals || vals.length === 0 || vals.some(pred);
    nets = nets.filter(
      (n) =>
        any(f.driver, (v) => n.driver === v) &&
        any(f.id, (v) => n.id.startsWith(v)) &&
        any(f.name, (v) => n.name.includes(v)) &&
        any(f.scope, (v) => v === "local") &&
        any(f.type, (v) => {
          if (v !== "custom" && v !== "builtin") throw invalidArgument(`invalid filter: 'type'='${v}'`);
          return (v === "builtin") === n.predefined;
        }) &&
        (f.label ?? []).every((l) => {
          const eq = l.indexOf("=");
          return eq < 0 ? Object.hasOwn(n.labels, l) : n.labels[l.slice(0, eq)] === l.slice(eq + 1);
        }) &&
        any(f.dangling, (v) => {
          const want = v === "true" || v === "1";
          if (!["true", "false", "1", "0"].includes(v))
            throw invalidArgument(`invalid filter 'dangling=${v}'`);
          return want === (!n.predefined && this.meta.endpointsOn(n.id).length === 0);
        }),
    );
    return nets.map((n) => this.toInspect(n, false));
  }

  private toInspect(n: NetworkRecord, withContainers: boolean): NetworkInspect {
    const containers: Record<string, NetworkContainer> = {};
    if (withContainers) {
      for (const e of this.meta.endpointsOn(n.id)) {
        if (e.state !== "attached") continue;
        const name = this.db.sqlite
          .prepare("SELECT name FROM containers WHERE id = ?")
          .pluck()
          .get(e.containerId);
        containers[e.containerId] = {
          Name: typeof name === "string" ? name : "",
          EndpointID: e.endpointId,
          MacAddress: e.mac,
          IPv4Address: e.address,
          IPv6Address: "",
        };
      }
    }
    return {
      Name: n.name,
      Id: n.id,
      Created: n.created,
      Scope: "local",
      Driver: n.driver,
      EnableIPv6: false,
      IPAM: {
        Driver: "default",
        Options: n.predefined ? null : {},
        Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [],
      },
      Internal: n.internal,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: containers,
      Options: { ...n.options },
      Labels: { ...n.labels },
    };
  }

  async remove(ref: string): Promise<void> {
    const n = this.resolve(ref);
    if (n.predefined) throw forbidden(`${n.name} is a pre-defined network and cannot be removed`);
    this.db.write(() => {
      // Any container configured for it refuses the removal, running or not, as Docker does;
      // the message names each (Docker's `(name:"…" id:"…")` list).
      const eps = this.meta.endpointsOn(n.id);
      if (eps.length > 0) {
        const names = eps
          .map((e) => `name:"${this.containerName(e.containerId)}" id:"${e.containerId.slice(0, 12)}"`)
          .join(", ");
        throw forbidden(`error while removing network: network ${n.name} has active endpoints (${names})`);
      }
      this.meta.deleteNetwork(n.id);
      this.events.emit("network", "destroy", { ID: n.id, Attributes: { name: n.name, type: n.driver } });
    });
    await this.removeBridge(n);
  }

  private async removeBridge(n: NetworkRecord): Promise<void> {
    if (n.bridge) await this.withHostLock(() => tearDownBridge(n.bridge, this.bridgeMarkers()));
    await rm(join(this.ipamDir(), n.name), { recursive: true, force: true });
  }

  async prune(opts: { filters?: Filters } = {}): Promise<NetworksPruneResponse> {
    const f = opts.filters ?? {};
    for (const k of Object.keys(f))
      if (k !== "until" && k !== "label" && k !== "label!") throw invalidArgument(`invalid filter '${k}'`);
    const deleted: string[] = [];
    for (const n of this.meta.listNetworks()) {
      if (n.predefined || this.meta.endpointsOn(n.id).length > 0) continue;
      const until = f.until?.[0];
      if (until !== undefined) {
        const t = /^\d+$/.test(until) ? Number(until) * 1000 : this.now() - parseDurationMs(until);
        if (Date.parse(n.created) >= t) continue;
      }
      const labelOk = (l: string) => {
        const eq = l.indexOf("=");
        return eq < 0 ? Object.hasOwn(n.labels, l) : n.labels[l.slice(0, eq)] === l.slice(eq + 1);
      };
      if (!(f.label ?? []).every(labelOk)) continue;
      if ((f["label!"] ?? []).some(labelOk)) continue;
      try {
        await this.remove(n.id);
        deleted.push(n.name);
      } catch (err) {
        // In use meanwhile (Forbidden), or another prune got there first (NotFound).
        if (isBerthError(err, "Forbidden") || isBerthError(err, "NotFound")) continue;
        throw err;
      }
    }
    this.events.emit("network", "prune", { ID: "", Attributes: { reclaimed: "0" } });
    return { NetworksDeleted: deleted };
  }

  // ---------------------------------------------------------------------------------------------
  // Container endpoints (configuration)

  /**
   * Checks a create request's network mode and endpoint settings and returns the network it
   * attaches to (undefined for none, host, container:…). Docker's errors for --ip and aliases on
   * the default network.
   */
  planFor(mode: string, endpoints: Readonly<Record<string, EndpointSettings>>): NetworkRecord | undefined {
    if (!isNetworkName(mode)) {
      if (Object.values(endpoints).some((e) => e.IPAMConfig?.IPv4Address))
        throw invalidArgument("user specified IP address is supported on user defined networks only");
      return undefined;
    }
    const net = this.resolve(mode === "default" ? DEFAULT_NETWORK : mode);
    const ep = endpoints[mode] ?? endpoints[net.name] ?? endpoints[net.id];
    if (net.predefined) {
      if (ep?.IPAMConfig?.IPv4Address)
        throw invalidArgument("user specified IP address is supported on user defined networks only");
      if ((ep?.Aliases ?? []).length > 0)
        throw invalidArgument(
          "network-scoped alias is supported only for containers in user defined networks",
        );
    }
    return net;
  }

  /** Records a container's endpoint on a network (create, connect). Run inside a write transaction. */
  addEndpoint(containerId: string, net: NetworkRecord, ep: EndpointSettings = {}): boolean {
    const ipv4 = ep.IPAMConfig?.IPv4Address ?? "";
    if (ipv4 !== "") {
      const ip = parseIPv4(ipv4);
      if (ip === undefined) throw invalidArgument(`invalid IPv4 address: ${ipv4}`);
      if (net.predefined)
        throw invalidArgument("user specified IP address is supported on user defined networks only");
      if (!contains(parseSubnet(net.subnet, { loose: true }), ip))
        throw invalidArgument(`Invalid address ${ipv4}: It does not belong to any of this network's subnets`);
      const taken = this.meta
        .endpointsOn(net.id)
        .some((e) => e.ipv4Request === ipv4 || e.address.split("/")[0] === ipv4);
      if (taken || ipv4 === net.gateway) throw conflict(`Address already in use`);
    }
    if ((ep.Aliases ?? []).length > 0 && net.predefined)
      throw invalidArgument("network-scoped alias is supported only for containers in user defined networks");
    return this.meta.insertEndpoint({
      containerId,
      networkId: net.id,
      endpointId: randomBytes(32).toString("hex"),
      aliases: [...(ep.Aliases ?? [])],
      ipv4Request: ipv4,
    });
  }

  endpointsOf(containerId: string): EndpointRecord[] {
    return this.meta.endpointsOf(containerId);
  }

  // ---------------------------------------------------------------------------------------------
  // Attaching

  /** Resolves the requested host ports to concrete ones, refusing taken ones (Docker's error). */
  private async choosePorts(
    target: AttachTarget,
    endpointId: string,
    keep: readonly PublishedPort[] = [],
  ): Promise<PublishedPort[]> {
    const reqs = requestedPorts(target.config, target.hostConfig);
    if (reqs.length === 0) return [];
    const forwarded = await forwardedHostPorts();
    const chosen: PublishedPort[] = [];
    // Ports the container publishes already (a live change of its ports) stay as they are.
    const kept = [...keep];
    const reuse = (r: PortRequest, ip: string): PublishedPort | undefined => {
      const i = kept.findIndex(
        (k) =>
          k.containerPort === r.containerPort &&
          k.proto === r.proto &&
          k.hostIp === ip &&
          (r.hostPortFrom === 0 || (k.hostPort >= r.hostPortFrom && k.hostPort <= r.hostPortTo)),
      );
      return i < 0 ? undefined : kept.splice(i, 1)[0];
    };
    const ours = (port: number, proto: string, ip: string) =>
      this.meta
        .portsUsing(port, proto)
        .some(
          (p) =>
            p.containerId !== target.id && (p.hostIp === ip || p.hostIp === "0.0.0.0" || ip === "0.0.0.0"),
        );
    const inChosen = (port: number, proto: string) =>
      chosen.some((c) => c.hostPort === port && c.proto === proto);
    const free = async (r: PortRequest, ip: string, port: number) =>
      !ours(port, r.proto, ip) &&
      !forwarded.has(`${r.proto}/${port}`) &&
      !inChosen(port, r.proto) &&
      (await canBind(ip, port, r.proto));
    for (const r of reqs) {
      const ip = r.hostIp === "" ? "0.0.0.0" : r.hostIp;
      const again = reuse(r, ip);
      if (again) {
        chosen.push(again);
        continue;
      }
      let port = 0;
      if (r.hostPortFrom === 0) {
        for (let i = 0; i < 50 && port === 0; i++) {
          const p = await ephemeralPort(ip, r.proto);
          if (await free(r, ip, p)) port = p;
        }
      } else {
        for (let p = r.hostPortFrom; p <= r.hostPortTo && port === 0; p++) if (await free(r, ip, p)) port = p;
      }
      if (port === 0) {
        const shown =
          r.hostPortFrom === r.hostPortTo ? `${r.hostPortFrom}` : `${r.hostPortFrom}-${r.hostPortTo}`;
        throw conflict(
          `driver failed programming external connectivity on endpoint ${target.name} (${endpointId}): Bind for ${ip}:${shown} failed: port is already allocated`,
        );
      }
      chosen.push({
        containerId: target.id,
        hostIp: ip,
        hostPort: port,
        containerPort: r.containerPort,
        proto: r.proto,
      });
    }
    return chosen;
  }

  /**
   * The CNI network configuration list of a bridge network: the bridge plugin (veth pair, address
   * from host-local IPAM) and, for a container that publishes ports, portmap. The bridge's
   * masquerading and forwarding rules are static (`ensureBridge`), not made per container.
   * `plugins` names the plugins of a stored attachment (DEL runs what ADD ran); "legacy" is the
   * list attachments were made with before the rules became static.
   */
  configList(n: NetworkRecord, plugins: readonly string[] | "legacy" = ["bridge"]): NetworkConfigList {
    const legacy = plugins === "legacy";
    const want = (t: string) => legacy || plugins.includes(t);
    const list: PluginConfig[] = [
      {
        type: "bridge",
        bridge: n.bridge,
        isGateway: true,
        ipMasq: legacy && !n.internal,
        hairpinMode: true,
        capabilities: { ips: true },
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: n.subnet, gateway: n.gateway }]],
          routes: n.internal ? [] : [{ dst: "0.0.0.0/0" }],
          dataDir: this.ipamDir(),
        },
      },
    ];
    if (!n.internal && want("portmap"))
      list.push({ type: "portmap", snat: true, capabilities: { portMappings: true } });
    if (legacy) list.push({ type: "firewall", backend: "iptables" });
    return { cniVersion: CNI_VERSION, name: n.name, plugins: list };
  }

  /** The plugins an endpoint's attachment runs: portmap only where ports are published. */
  private pluginsFor(ep: Pick<EndpointRecord, "ifname">, ports: readonly PublishedPort[]): string[] {
    return (ep.ifname === "eth0" || ep.ifname === "") && ports.length > 0
      ? ["bridge", "portmap"]
      : ["bridge"];
  }

  private runtimeConfig(ep: EndpointRecord, first: boolean, ports: readonly PublishedPort[]) {
    const rc: Record<string, unknown> = {};
    if (first && ports.length > 0) {
      rc.portMappings = ports.map((p) => ({
        hostPort: p.hostPort,
        containerPort: p.containerPort,
        protocol: p.proto,
        ...(p.hostIp !== "0.0.0.0" ? { hostIP: p.hostIp } : {}),
      }));
    }
    if (ep.ipv4Request) rc.ips = [ep.ipv4Request];
    return rc;
  }

  /**
   * Attaches a container to its networks before its process starts. Returns undefined when it
   * has none (network none/host/container:…). On failure nothing is left behind.
   */
  async attach(target: AttachTarget): Promise<Attachment | undefined> {
    const eps = this.meta.endpointsOf(target.id);
    if (eps.length === 0) return undefined;
    // A previous attachment that was never torn down (a crash): tear it down first.
    if (eps.some((e) => e.state !== "")) await this.detach(target.id);
    for (const e of eps) {
      const net = this.meta.getNetwork(e.networkId);
      if (net) await this.ensureBridge(net);
    }
    // Host ports are shared by every store on the host: choosing them and programming the
    // forwarding rules run under the host-wide lock, so two stores never publish one port.
    if (requestedPorts(target.config, target.hostConfig).length === 0) return this.attachNow(target, eps);
    return this.withHostLock(() => this.attachNow(target, eps));
  }

  /**
   * Docker's `port is already allocated` when another container holds one of `ports` (same host
   * address, or either side on 0.0.0.0). Called inside the write transaction that records them.
   */
  private assertPortsFree(target: AttachTarget, endpointId: string, ports: readonly PublishedPort[]): void {
    for (const p of ports) {
      const holder = this.meta
        .portsUsing(p.hostPort, p.proto)
        .find(
          (q) =>
            q.containerId !== target.id &&
            (q.hostIp === p.hostIp || q.hostIp === "0.0.0.0" || p.hostIp === "0.0.0.0"),
        );
      if (holder)
        throw conflict(
          `driver failed programming external connectivity on endpoint ${target.name} (${endpointId}): Bind for ${p.hostIp}:${p.hostPort} failed: port is already allocated`,
        );
    }
  }

  private async attachNow(target: AttachTarget, eps: readonly EndpointRecord[]): Promise<Attachment> {
    const first = eps[0] as EndpointRecord;
    const ports = await this.choosePorts(target, first.endpointId);
    this.db.write(() => {
      // Re-check under the write lock: another process may have taken a port meanwhile.
      this.assertPortsFree(target, first.endpointId, ports);
      this.meta.deletePorts(target.id);
      for (const p of ports) this.meta.insertPort(p);
      eps.forEach((e, i) => {
        this.meta.markAttaching(target.id, e.networkId, {
          ifname: `eth${i}`,
          ownerPid: process.pid,
          at: this.now(),
        });
      });
    });
    const netns = this.netnsPath(target.id);
    try {
      await createNetns(netns);
      let ip = "";
      let nameservers: string[] = [];
      for (const [i, e] of eps.entries()) {
        const net = this.meta.getNetwork(e.networkId);
        if (!net) throw notFound(`network ${e.networkId} not found`);
        const result = await this.addEndpointToNetns(
          target.id,
          net,
          { ...e, ifname: `eth${i}` },
          i === 0 ? ports : [],
        );
        if (i === 0) {
          ip = (result.ips[0]?.address ?? "").split("/")[0] ?? "";
          if (net.dns) nameservers = [net.gateway];
        }
      }
      await this.syncDnsFor(eps.map((e) => e.networkId));
      return { netnsPath: netns, ip, nameservers };
    } catch (err) {
      await bestEffort(`detaching container ${target.id} after a failed attach`, this.detach(target.id));
      throw err;
    }
  }

  /**
   * Changes the published ports of a running container in place (`container update
   * --publish-add/--publish-rm`): under the host-wide lock, host ports are chosen for the new
   * bindings of `target.hostConfig` (ports it publishes already keep theirs) and recorded together
   * with whatever `hooks.commit` writes (the container's HostConfig), in one transaction; then
   * portmap's rules on the first network are replaced through CNI (DEL with the old mappings, ADD
   * with the new, given the attachment's stored result). If that fails, the old records and rules
   * come back and `hooks.rollback` runs in the restoring transaction.
   */
  async republish(target: AttachTarget, hooks: { commit(): void; rollback(): void }): Promise<void> {
    const first = this.meta.endpointsOf(target.id)[0];
    if (first?.state !== "attached") {
      this.db.write(() => hooks.commit());
      return;
    }
    const net = this.meta.getNetwork(first.networkId);
    if (!net) throw notFound(`network ${first.networkId} not found`);
    if (decodeStored(first.result).plugins === undefined)
      throw failedPrecondition(
        `container ${target.id} was attached by an older berth: restart it once before changing its published ports`,
      );
    await this.withHostLock(async () => {
      const old = this.meta.portsOf(target.id);
      const ports = await this.choosePorts(target, first.endpointId, old);
      const record = (list: readonly PublishedPort[], hook: () => void) =>
        this.db.write(() => {
          this.assertPortsFree(target, first.endpointId, list);
          this.meta.deletePorts(target.id);
          for (const p of list) this.meta.insertPort(p);
          hook();
        });
      record(ports, hooks.commit);
      try {
        await this.reprogramPortmap(target.id, net, old, ports);
      } catch (err) {
        this.db.write(() => {
          this.meta.deletePorts(target.id);
          for (const p of old) this.meta.insertPort(p);
          hooks.rollback();
        });
        await bestEffort(
          `restoring the published ports of ${target.id}`,
          this.reprogramPortmap(target.id, net, ports, old),
        );
        throw err;
      }
    });
  }

  /** Replaces the portmap rules of a container's first network: `from`'s mappings out, `to`'s in. */
  private async reprogramPortmap(
    containerId: string,
    net: NetworkRecord,
    from: readonly PublishedPort[],
    to: readonly PublishedPort[],
  ): Promise<void> {
    const ep = this.meta.endpointsOf(containerId).find((e) => e.networkId === net.id);
    if (ep?.state !== "attached") return;
    const stored = decodeStored(ep.result);
    const prev = stored.result;
    if (!prev || stored.plugins === undefined)
      throw failedPrecondition(`container ${containerId} has no recorded attachment to ${net.name}`);
    const full = this.configList(net, ["bridge", "portmap"]);
    const portmap = full.plugins.find((p) => p.type === "portmap");
    // An internal network forwards nothing (attach runs no portmap there either).
    if (!portmap) return;
    const list: NetworkConfigList = { ...full, plugins: [portmap] };
    const inv = (ports: readonly PublishedPort[]) => ({
      containerId,
      netns: this.netnsPath(containerId),
      ifname: ep.ifname || "eth0",
      runtimeConfig: this.runtimeConfig(ep, true, ports),
      ...(this.deps.cniPath ? { cniPath: this.deps.cniPath } : {}),
    });
    const others = stored.plugins.filter((p) => p !== "portmap");
    if (stored.plugins.includes("portmap")) {
      await delNetworkList(list, inv(from), prev);
      this.db.write(() =>
        this.meta.recordAttachment(containerId, net.id, {
          address: ep.address,
          gateway: ep.gateway,
          mac: ep.mac,
          result: encodeStored(this.configList(net, others).plugins, prev),
          done: true,
        }),
      );
    }
    if (to.length === 0) return;
    const r = await invokePlugin(
      "ADD",
      pluginStdin(list, portmap, { prevResult: prev.raw, runtimeConfig: inv(to).runtimeConfig }),
      "portmap",
      inv(to),
    );
    if (!r) throw failedPrecondition("CNI plugin portmap ADD returned no result");
    this.db.write(() =>
      this.meta.recordAttachment(containerId, net.id, {
        address: ep.address,
        gateway: ep.gateway,
        mac: ep.mac,
        result: encodeStored(this.configList(net, [...others, "portmap"]).plugins, r),
        done: true,
      }),
    );
  }

  private async addEndpointToNetns(
    containerId: string,
    net: NetworkRecord,
    ep: EndpointRecord,
    ports: readonly PublishedPort[],
  ): Promise<CniResult> {
    const list = this.configList(net, this.pluginsFor(ep, ports));
    const record = (r: CniResult, done: boolean) => {
      const ipc = r.ips[0];
      const iface = ipc?.interface !== undefined ? r.interfaces[ipc.interface] : undefined;
      this.db.write(() => {
        this.meta.recordAttachment(containerId, net.id, {
          address: ipc?.address ?? "",
          gateway: ipc?.gateway ?? "",
          mac: iface?.mac ?? "",
          result: encodeStored(list.plugins, r),
          done,
        });
        if (done) this.emitEndpointEvent("connect", containerId, net);
      });
    };
    const rc = this.runtimeConfig(ep, ep.ifname === "eth0", ports);
    const result = await addNetworkList(
      list,
      {
        containerId,
        netns: this.netnsPath(containerId),
        ifname: ep.ifname,
        runtimeConfig: rc,
        ...(this.deps.cniPath ? { cniPath: this.deps.cniPath } : {}),
      },
      (r) => record(r, false),
    );
    record(result, true);
    return result;
  }

  /** Connects a running container's namespace to one more network (`network connect`). */
  async attachOne(target: AttachTarget, net: NetworkRecord): Promise<void> {
    const eps = this.meta.endpointsOf(target.id);
    const ep = eps.find((e) => e.networkId === net.id);
    if (!ep) return;
    const used = new Set(eps.map((e) => e.ifname).filter(Boolean));
    let n = 0;
    while (used.has(`eth${n}`)) n++;
    const ifname = `eth${n}`;
    this.db.write(() =>
      this.meta.markAttaching(target.id, net.id, { ifname, ownerPid: process.pid, at: this.now() }),
    );
    try {
      await this.addEndpointToNetns(target.id, net, { ...ep, ifname }, []);
      await this.syncDnsFor([net.id]);
    } catch (err) {
      await bestEffort(
        `detaching container ${target.id} from network ${net.id} after a failed attach`,
        this.detachOne(target.id, net.id),
      );
      throw err;
    }
  }

  /** Disconnects one network of a running container (`network disconnect`). */
  async detachOne(containerId: string, networkId: string): Promise<void> {
    const ep = this.meta.endpointsOf(containerId).find((e) => e.networkId === networkId);
    if (!ep || ep.state === "") return;
    await this.delEndpoint(containerId, ep, []);
    this.db.write(() => {
      this.meta.clearAttachment(containerId, networkId);
      const net = this.meta.getNetwork(networkId);
      if (net) this.emitEndpointEvent("disconnect", containerId, net);
    });
    await this.syncDnsFor([networkId]);
  }

  private async delEndpoint(
    containerId: string,
    ep: EndpointRecord,
    ports: readonly PublishedPort[],
  ): Promise<void> {
    const net = this.meta.getNetwork(ep.networkId);
    if (!net) return;
    const stored = decodeStored(ep.result);
    const prev = stored.result;
    const plugins = stored.plugins ?? (prev ? "legacy" : this.pluginsFor(ep, ports));
    const rc = this.runtimeConfig(ep, ep.ifname === "eth0", ports);
    await delNetworkList(
      this.configList(net, plugins),
      {
        containerId,
        netns: this.netnsPath(containerId),
        ifname: ep.ifname || "eth0",
        runtimeConfig: rc,
        ...(this.deps.cniPath ? { cniPath: this.deps.cniPath } : {}),
      },
      prev,
    );
  }

  /**
   * Tears a container's attachment down: CNI DEL for every network (with the results ADD gave),
   * then the namespace, then the records. Safe to repeat; safe after a crash at any point.
   */
  async detach(containerId: string): Promise<void> {
    const eps = this.meta.endpointsOf(containerId).filter((e) => e.state !== "");
    const ports = this.meta.portsOf(containerId);
    let first: unknown;
    for (const e of [...eps].reverse()) {
      try {
        await this.delEndpoint(containerId, e, ports);
      } catch (err) {
        first ??= err;
      }
    }
    await removeNetns(this.netnsPath(containerId));
    this.db.write(() => {
      for (const e of eps) {
        this.meta.clearAttachment(containerId, e.networkId);
        const net = this.meta.getNetwork(e.networkId);
        if (net) this.emitEndpointEvent("disconnect", containerId, net);
      }
      this.meta.deletePorts(containerId);
    });
    if (eps.length > 0) await this.syncDnsFor(eps.map((e) => e.networkId));
    if (first !== undefined)
      throw failedPrecondition(`network teardown of ${containerId}: ${errorMessage(first)}`, first);
  }

  /** A container's endpoint on a network came up or went down (Docker's connect/disconnect). */
  private emitEndpointEvent(action: "connect" | "disconnect", containerId: string, net: NetworkRecord): void {
    this.events.emit("network", action, {
      ID: net.id,
      Attributes: { container: containerId, name: net.name, type: net.driver },
    });
  }

  /**
   * Rewrites the DNS server's view of these networks (only those with name resolution). The
   * store's DNS lock is held across reading the records and the servers' reload: the records are
   * read after this process's change was committed, so whichever process syncs last serves every
   * change before it, and the database is not held while a server rebinds.
   */
  private async syncDnsFor(networkIds: readonly string[]): Promise<void> {
    const nets = networkIds.map((id) => this.meta.getNetwork(id)).filter((n): n is NetworkRecord => !!n?.dns);
    if (nets.length === 0) return;
    const dir = this.deps.dnsDir;
    await new LockDir(join(dir, ".locks")).with("sync", async () => {
      await syncDns(
        dir,
        this.db.read(() => this.dnsNetworks()),
      );
    });
  }

  /** Every network with name resolution and the names its attached containers answer to. */
  private dnsNetworks(): DnsNetwork[] {
    const all: DnsNetwork[] = [];
    for (const n of this.meta.listNetworks()) {
      if (!n.dns) continue;
      const entries = this.meta
        .endpointsOn(n.id)
        .filter((e) => e.state === "attached" && e.address)
        .map((e) => {
          const row = this.db.sqlite
            .prepare("SELECT name, host_config FROM containers WHERE id = ?")
            .get(e.containerId);
          let name = "";
          let dns: string[] = [];
          if (typeof row === "object" && row !== null && "name" in row && typeof row.name === "string") {
            name = row.name;
            if ("host_config" in row && typeof row.host_config === "string") {
              const hc: unknown = JSON.parse(row.host_config);
              if (typeof hc === "object" && hc !== null && "Dns" in hc && Array.isArray(hc.Dns))
                dns = hc.Dns.filter((d): d is string => typeof d === "string");
            }
          }
          return {
            containerId: e.containerId,
            ipv4: e.address.split("/")[0] ?? "",
            names: [name, ...e.aliases, e.containerId.slice(0, 12)].filter(Boolean),
            dnsServers: dns,
          };
        });
      if (entries.length > 0) all.push({ name: n.name, gateway: n.gateway, entries });
    }
    return all;
  }

  /** Container settings as inspect and ps show them. */
  networkSettings(containerId: string, running: boolean) {
    const networks: Record<string, EndpointSettings> = {};
    for (const e of this.meta.endpointsOf(containerId)) {
      const net = this.meta.getNetwork(e.networkId);
      if (!net) continue;
      const on = running && e.state === "attached";
      const [ip = "", len = ""] = on ? e.address.split("/") : [];
      networks[net.name] = {
        IPAMConfig: e.ipv4Request ? { IPv4Address: e.ipv4Request } : null,
        Links: null,
        Aliases: net.predefined ? null : [...e.aliases, containerId.slice(0, 12)],
        MacAddress: on ? e.mac : "",
        DriverOpts: null,
        NetworkID: net.id,
        EndpointID: on ? e.endpointId : "",
        Gateway: on ? e.gateway : "",
        IPAddress: ip,
        IPPrefixLen: len ? Number(len) : 0,
        IPv6Gateway: "",
        GlobalIPv6Address: "",
        GlobalIPv6PrefixLen: 0,
        DNSNames: net.dns ? [this.containerName(containerId), ...e.aliases, containerId.slice(0, 12)] : null,
      };
    }
    const ports: Record<string, PortBinding[] | null> = {};
    if (running) {
      for (const p of this.meta.portsOf(containerId)) {
        const key = `${p.containerPort}/${p.proto}`;
        const list = ports[key] ?? [];
        list.push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
        ports[key] = list;
      }
    }
    return { networks, ports, published: running ? this.meta.portsOf(containerId) : [] };
  }

  private containerName(id: string): string {
    const name = this.db.sqlite.prepare("SELECT name FROM containers WHERE id = ?").pluck().get(id);
    return typeof name === "string" ? name : "";
  }

  /**
   * Repairs what killed processes left: attachments of containers that are not running (unless
   * a live process is attaching them right now) and namespace files nobody accounts for.
   * `exclusive(id, fn)` runs `fn` only while nothing else acts on the container (its lock is
   * free, in this process too: an API server starts containers while it reconciles) and it still
   * does not run; otherwise it leaves the container alone.
   */
  async reconcile(
    isRunning: (containerId: string) => boolean,
    exclusive: (containerId: string, fn: () => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const byContainer = new Map<string, EndpointRecord[]>();
    for (const e of this.meta.activeEndpoints()) {
      const list = byContainer.get(e.containerId) ?? [];
      list.push(e);
      byContainer.set(e.containerId, list);
    }
    const now = this.now();
    for (const [id, eps] of byContainer) {
      if (isRunning(id)) continue;
      if (
        eps.some(
          (e) => e.ownerPid !== process.pid && pidExists(e.ownerPid) && now - e.updatedAt < ATTACH_GRACE_MS,
        )
      )
        continue;
      await bestEffort(
        `detaching container ${id}, which is not running`,
        exclusive(id, () => this.detach(id)),
      );
    }
    const files = await readdirIfExists(this.deps.netnsDir);

    // Build sandboxes whose process died.
    const sandboxes = new Set<string>();
    for (const f of await readdirIfExists(this.sandboxDir())) {
      if (!f.endsWith(".json")) continue;
      const id = f.slice(0, -5);
      const rec = await this.readSandbox(id);
      if (rec && pidExists(rec.pid)) sandboxes.add(id);
      else await bestEffort(`detaching build sandbox ${id}`, this.detachSandbox(id));
    }
    for (const f of files) {
      if (!/^[a-f0-9]{64}$/.test(f) || byContainer.has(f) || sandboxes.has(f) || isRunning(f)) continue;
      if (this.meta.endpointsOf(f).some((e) => e.state !== "")) continue;
      await bestEffort(
        `removing network namespace ${f}`,
        exclusive(f, async () => {
          if (this.meta.endpointsOf(f).some((e) => e.state !== "")) return;
          await removeNetns(join(this.deps.netnsDir, f));
        }),
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Sandboxes: a namespace on the default network for something that is not a container record
  // (build steps). `<cniDir>/sandboxes/<id>.json` records the owning process and the CNI result
  // before and after the ADD, so the next command's reconcile tears down a dead owner's sandbox.

  private sandboxDir(): string {
    return join(this.deps.cniDir, "sandboxes");
  }

  private async readSandbox(id: string): Promise<{ pid: number; result: string } | undefined> {
    const text = await readTextIfExists(join(this.sandboxDir(), `${id}.json`));
    if (text === undefined) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      // Written whole (temp and rename): not JSON means not ours; it is treated as no sandbox.
      debug(`build sandbox record ${id} is not JSON: ${errorMessage(err)}`);
      return undefined;
    }
    if (typeof v !== "object" || v === null || !("pid" in v) || typeof v.pid !== "number") return undefined;
    const result = "result" in v && typeof v.result === "string" ? v.result : "";
    return { pid: v.pid, result };
  }

  /**
   * Creates a network namespace `<runroot>/netns/<id>` attached to the default bridge network
   * (no published ports) for a process that is not a container record — a build's RUN step.
   * `id` must be 64 lowercase hex characters, unique (a random ID). Call `detachSandbox(id)` when
   * done; a crashed owner's sandbox is removed by the next command's reconcile.
   */
  async attachSandbox(id: string): Promise<Attachment> {
    if (!/^[a-f0-9]{64}$/.test(id)) throw invalidArgument(`invalid sandbox id ${id}`);
    const net = await this.ensureBridge(this.resolve(DEFAULT_NETWORK));
    await mkdir(this.sandboxDir(), { recursive: true, mode: 0o700 });
    const file = join(this.sandboxDir(), `${id}.json`);
    await writeFileAtomic(file, JSON.stringify({ pid: process.pid, result: "" }), 0o600);
    const netns = this.netnsPath(id);
    try {
      await createNetns(netns);
      const cniPath = this.deps.cniPath ? { cniPath: this.deps.cniPath } : {};
      const list = this.configList(net);
      // Intermediate results are recorded in order, before the final one.
      let pending: Promise<void> = Promise.resolve();
      const save = (r: CniResult) => {
        pending = pending.then(() =>
          writeFileAtomic(
            file,
            JSON.stringify({ pid: process.pid, result: encodeStored(list.plugins, r) }),
            0o600,
          ),
        );
      };
      const result = await addNetworkList(list, { containerId: id, netns, ifname: "eth0", ...cniPath }, save);
      save(result);
      await pending;
      return { netnsPath: netns, ip: (result.ips[0]?.address ?? "").split("/")[0] ?? "", nameservers: [] };
    } catch (err) {
      await bestEffort(`detaching build sandbox ${id}`, this.detachSandbox(id));
      throw err;
    }
  }

  /** Tears a sandbox down (CNI DEL, namespace, record); safe to repeat. */
  async detachSandbox(id: string): Promise<void> {
    const rec = await this.readSandbox(id);
    const net = this.meta.networkByName(DEFAULT_NETWORK);
    const stored = decodeStored(rec?.result ?? "");
    const prev = stored.result;
    if (net) {
      // The namespace goes below whatever DEL managed: a failed DEL is recorded, not fatal.
      await bestEffort(
        `CNI DEL of build sandbox ${id}`,
        delNetworkList(
          this.configList(net, stored.plugins ?? (prev ? "legacy" : ["bridge"])),
          {
            containerId: id,
            netns: this.netnsPath(id),
            ifname: "eth0",
            ...(this.deps.cniPath ? { cniPath: this.deps.cniPath } : {}),
          },
          prev,
        ),
      );
    }

    await removeNetns(this.netnsPath(id));
    await rm(join(this.sandboxDir(), `${id}.json`), { force: true });
  }

  /** The default network's gateway (`host-gateway` in --add-host). */
  defaultGateway(): string {
    return this.meta.networkByName(DEFAULT_NETWORK)?.gateway ?? "";
  }
}

/** "24h", "30m", "10s" → ms (the prune `until` filter's relative form). */
function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(h|m|s)$/.exec(text);
  if (!m) {
    const t = Date.parse(text);
    if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${text}'`);
    return Date.now() - t;
  }
  const n = Number(m[1]);
  return n * (m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : 1000);
}
