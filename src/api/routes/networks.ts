/**
 * The network endpoints: create, list, inspect, remove, prune, connect and disconnect. Bodies
 * are decoded into the engine's request types; swarm-only settings (ingress, config-only and
 * config-from networks, the swarm scope) are refused, since berth is not in a swarm.
 */
import { invalidArgument, notFound, notImplemented } from "../../base/errors.js";
import type {
  EndpointSettings,
  IPAMConfig,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkDisconnectRequest,
} from "../../engine/types.js";
import { Fields, filterOptions } from "../decode.js";
import { readJson, sendJson, sendNoContent } from "../http.js";
import type { Router } from "../router.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function decodeIpamConfig(f: Fields): IPAMConfig {
  const out: IPAMConfig = {};
  const subnet = f.string("Subnet");
  const ipRange = f.string("IPRange");
  const gateway = f.string("Gateway");
  const aux = f.stringMap("AuxiliaryAddresses");
  if (subnet) out.Subnet = subnet;
  if (ipRange) out.IPRange = ipRange;
  if (gateway) out.Gateway = gateway;
  if (aux && Object.keys(aux).length > 0) out.AuxiliaryAddresses = aux;
  return out;
}

/** POST /networks/create body, as the docker CLI and SDKs send it. */
export function decodeNetworkCreate(body: unknown): NetworkCreateRequest {
  const f = new Fields(body ?? {}, "");
  const name = f.string("Name") ?? "";
  if (name === "") throw invalidArgument("network name must be specified");
  const out: Mutable<NetworkCreateRequest> = { Name: name };
  const scope = f.string("Scope") ?? "";
  if (scope !== "" && scope !== "local") {
    throw notImplemented(`network scope "${scope}" is not supported: berth networks are local`);
  }
  if (f.bool("Ingress")) throw notImplemented("ingress networks are not supported: berth is not in a swarm");
  if (f.bool("ConfigOnly")) throw notImplemented("config-only networks are not supported");
  const configFrom = f.object("ConfigFrom");
  if (configFrom && (configFrom.string("Network") ?? "") !== "") {
    throw notImplemented("networks created from a config-only network (ConfigFrom) are not supported");
  }
  if (f.has("EnableIPv4") && f.bool("EnableIPv4") === false) {
    throw notImplemented("networks without IPv4 (EnableIPv4=false) are not supported");
  }
  const driver = f.string("Driver");
  if (driver) out.Driver = driver;
  if (scope) out.Scope = scope;
  const internal = f.bool("Internal");
  const attachable = f.bool("Attachable");
  const ipv6 = f.bool("EnableIPv6");
  const check = f.bool("CheckDuplicate");
  if (internal !== undefined) out.Internal = internal;
  if (attachable !== undefined) out.Attachable = attachable;
  if (ipv6 !== undefined) out.EnableIPv6 = ipv6;
  if (check !== undefined) out.CheckDuplicate = check;
  const ipam = f.object("IPAM");
  if (ipam) {
    const ipamDriver = ipam.string("Driver") ?? "";
    if (ipamDriver !== "" && ipamDriver !== "default") {
      throw notImplemented(`IPAM driver "${ipamDriver}" is not supported: berth has the default IPAM only`);
    }
    const ipamOptions = ipam.stringMap("Options");
    if (ipamOptions && Object.keys(ipamOptions).length > 0) {
      throw notImplemented("IPAM options are not supported by the default IPAM driver");
    }
    const configs = (ipam.objects("Config") ?? []).map(decodeIpamConfig);
    out.IPAM = { ...(ipamDriver ? { Driver: ipamDriver } : {}), Config: configs };
  }
  const options = f.stringMap("Options");
  const labels = f.stringMap("Labels");
  if (options) out.Options = options;
  if (labels) out.Labels = labels;
  return out;
}

/** EndpointSettings of a connect request (the fields a user sets: IPAM config, aliases, links, …). */
export function decodeEndpointSettings(f: Fields): EndpointSettings {
  const out: EndpointSettings = {};
  const ipam = f.object("IPAMConfig");
  if (ipam) {
    const v4 = ipam.string("IPv4Address");
    const v6 = ipam.string("IPv6Address");
    const linkLocal = ipam.strings("LinkLocalIPs");
    if (linkLocal && linkLocal.length > 0) throw notImplemented("link-local IPs are not supported");
    out.IPAMConfig = { ...(v4 ? { IPv4Address: v4 } : {}), ...(v6 ? { IPv6Address: v6 } : {}) };
  }
  const links = f.strings("Links");
  const aliases = f.strings("Aliases");
  const mac = f.string("MacAddress");
  const driverOpts = f.stringMap("DriverOpts");
  const dnsNames = f.strings("DNSNames");
  if (links && links.length > 0) out.Links = links;
  if (aliases && aliases.length > 0) out.Aliases = aliases;
  if (mac) out.MacAddress = mac;
  if (driverOpts && Object.keys(driverOpts).length > 0) out.DriverOpts = driverOpts;
  if (dnsNames && dnsNames.length > 0) out.DNSNames = dnsNames;
  const priority = f.int("GwPriority");
  if (priority) throw notImplemented("gateway priority (GwPriority) is not supported");
  return out;
}

export function decodeNetworkConnect(body: unknown): NetworkConnectRequest {
  const f = new Fields(body ?? {}, "");
  const container = f.string("Container") ?? "";
  if (container === "") throw invalidArgument("no container given (Container)");
  const ep = f.object("EndpointConfig");
  return { Container: container, ...(ep ? { EndpointConfig: decodeEndpointSettings(ep) } : {}) };
}

export function decodeNetworkDisconnect(body: unknown): NetworkDisconnectRequest {
  const f = new Fields(body ?? {}, "");
  const container = f.string("Container") ?? "";
  if (container === "") throw invalidArgument("no container given (Container)");
  const force = f.bool("Force");
  return { Container: container, ...(force !== undefined ? { Force: force } : {}) };
}

export function networkRoutes(router: Router): void {
  router.get("/networks", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.networkList(filterOptions(ctx.query)));
  });
  router.post("/networks/create", async (ctx) => {
    const req = decodeNetworkCreate(await readJson(ctx.req, ctx.limits));
    sendJson(ctx.res, 201, await ctx.engine.networkCreate(req));
  });
  router.post("/networks/prune", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.networkPrune(filterOptions(ctx.query)));
  });
  router.get("/networks/{id}", async (ctx) => {
    // `verbose` adds swarm service details, of which a local engine has none; `scope` narrows
    // the lookup to one scope, and berth's networks are all local.
    const scope = ctx.query.get("scope") ?? "";
    const id = ctx.params.id ?? "";
    if (scope !== "" && scope !== "local") throw notFound(`network ${id} not found`);
    sendJson(ctx.res, 200, await ctx.engine.networkInspect(id));
  });
  router.delete("/networks/{id}", async (ctx) => {
    await ctx.engine.networkRemove(ctx.params.id ?? "");
    sendNoContent(ctx.res);
  });
  router.post("/networks/{id}/connect", async (ctx) => {
    const req = decodeNetworkConnect(await readJson(ctx.req, ctx.limits));
    await ctx.engine.networkConnect(ctx.params.id ?? "", req);
    ctx.res.writeHead(200).end();
  });
  router.post("/networks/{id}/disconnect", async (ctx) => {
    const req = decodeNetworkDisconnect(await readJson(ctx.req, ctx.limits));
    await ctx.engine.networkDisconnect(ctx.params.id ?? "", req);
    ctx.res.writeHead(200).end();
  });
}
