import type { NetworkInspect, PortBinding } from "../../engine/types.js";
import { type Command, exactly } from "../command.js";
import { keyValueFlags, UsageError } from "../flags.js";
import { renderList } from "../format/render.js";
import { goTime } from "./images.js";
import { makeInspectCommand, makeListCommand, makePruneCommand, perName, writeDeleted } from "./shapes.js";
import { byNaturalName, DRIVER_OPTS_FLAG } from "./volumes.js";

/** One row of `network ls` (docker/cli's networkContext). */
export class NetworkRow {
  readonly ID: string;
  readonly Name: string;
  readonly Driver: string;
  readonly Scope: string;
  readonly IPv6: string;
  readonly Internal: string;
  readonly Labels: string;
  readonly CreatedAt: string;
  readonly #labels: Readonly<Record<string, string>>;

  constructor(n: NetworkInspect, noTrunc: boolean) {
    this.ID = noTrunc ? n.Id : n.Id.slice(0, 12);
    this.Name = n.Name;
    this.Driver = n.Driver;
    this.Scope = n.Scope;
    this.IPv6 = String(n.EnableIPv6);
    this.Internal = String(n.Internal);
    this.#labels = n.Labels;
    this.Labels = Object.entries(n.Labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    this.CreatedAt = goTime(Math.floor(Date.parse(n.Created) / 1000));
  }

  Label(name: unknown): string {
    return this.#labels[String(name)] ?? "";
  }
}

const NETWORK_HEADERS = {
  ID: "NETWORK ID",
  Name: "NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  IPv6: "IPV6",
  Internal: "INTERNAL",
  Labels: "LABELS",
  CreatedAt: "CREATED AT",
};

const createCommand: Command = {
  path: "network create",
  usage: "[OPTIONS] NETWORK",
  description: "Create a network",
  args: exactly(1),
  flags: [
    { name: "attachable", type: "bool", description: "Enable manual container attachment" },
    {
      name: "driver",
      short: "d",
      type: "string",
      valueName: "string",
      description: "Driver to manage the Network",
      defaultText: '"bridge"',
    },
    {
      name: "gateway",
      type: "list",
      valueName: "strings",
      description: "IPv4 or IPv6 Gateway for the master subnet",
    },
    { name: "internal", type: "bool", description: "Restrict external access to the network" },
    {
      name: "ip-range",
      type: "list",
      valueName: "strings",
      description: "Allocate container ip from a sub-range",
    },
    { name: "ipv6", type: "bool", description: "Enable IPv6 networking" },
    { name: "label", type: "list", valueName: "list", description: "Set metadata on a network" },
    DRIVER_OPTS_FLAG,
    {
      name: "subnet",
      type: "list",
      valueName: "strings",
      description: "Subnet in CIDR format that represents a network segment",
    },
  ],
  async run(ctx, flags, args) {
    const subnets = flags.list("subnet");
    const gateways = flags.list("gateway");
    if (gateways.length > subnets.length)
      throw new UsageError("every ip-range or gateway must have a corresponding subnet");
    const res = await (await ctx.engine()).networkCreate({
      Name: args[0] as string,
      Driver: flags.string("driver") ?? "bridge",
      Internal: flags.bool("internal"),
      Attachable: flags.bool("attachable"),
      EnableIPv6: flags.bool("ipv6"),
      IPAM: {
        Driver: "default",
        Config: subnets.map((s, i) => ({ Subnet: s, ...(gateways[i] ? { Gateway: gateways[i] } : {}) })),
      },
      Options: keyValueFlags(flags.list("opt")),
      Labels: keyValueFlags(flags.list("label")),
    });
    ctx.io.stdout.write(`${res.Id}\n`);
    return 0;
  },
};

const lsCommand = makeListCommand({
  path: "network ls",
  aliases: ["network list"],
  description: "List networks",
  filterExample: "driver=bridge",
  quiet: "Only display network IDs",
  noTrunc: "Do not truncate the output",
  list: async ({ engine, filters, flags }) => {
    const nets = await engine.networkList({ filters });
    return renderList(
      byNaturalName(nets).map((n) => new NetworkRow(n, flags.bool("no-trunc"))),
      {
        format: flags.string("format"),
        defaultTableFormat: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
        headers: NETWORK_HEADERS,
        quiet: flags.bool("quiet"),
        quietFormat: "{{.ID}}",
        typeName: "*formatter.networkContext",
      },
    );
  },
});

const inspectCommand = makeInspectCommand({
  path: "network inspect",
  usage: "[OPTIONS] NETWORK [NETWORK...]",
  description: "Display detailed information on one or more networks",
  flags: [{ name: "verbose", short: "v", type: "bool", description: "Verbose output for diagnostics" }],
  lookup: (engine, name) => engine.networkInspect(name),
});

const rmCommand = perName({
  path: "network rm",
  aliases: ["network remove"],
  usage: "NETWORK [NETWORK...]",
  description: "Remove one or more networks",
  flags: [
    { name: "force", short: "f", type: "bool", description: "Do not error if the network does not exist" },
  ],
  act: (engine, name) => engine.networkRemove(name),
  missingOk: (flags) => flags.bool("force"),
});

const pruneCommand = makePruneCommand({
  path: "network prune",
  description: "Remove all unused networks",
  filterExample: "until=<timestamp>",
  question: () =>
    "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?",
  prune: async (ctx, engine, filters) => {
    const report = await engine.networkPrune({ filters });
    writeDeleted(ctx, "Networks", report.NetworksDeleted);
  },
});

const connectCommand: Command = {
  path: "network connect",
  usage: "[OPTIONS] NETWORK CONTAINER",
  description: "Connect a container to a network",
  args: exactly(2),
  flags: [
    {
      name: "alias",
      type: "list",
      valueName: "strings",
      description: "Add network-scoped alias for the container",
    },
    { name: "ip", type: "string", valueName: "string", description: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: "ip6", type: "string", valueName: "string", description: 'IPv6 address (e.g., "2001:db8::33")' },
    { name: "link", type: "list", valueName: "list", description: "Add link to another container" },
  ],
  async run(ctx, flags, args) {
    const ip = flags.string("ip");
    const aliases = flags.list("alias");
    await (await ctx.engine()).networkConnect(args[0] as string, {
      Container: args[1] as string,
      EndpointConfig: {
        ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}),
        ...(aliases.length > 0 ? { Aliases: aliases } : {}),
      },
    });
    return 0;
  },
};

const disconnectCommand: Command = {
  path: "network disconnect",
  usage: "[OPTIONS] NETWORK CONTAINER",
  description: "Disconnect a container from a network",
  args: exactly(2),
  flags: [
    {
      name: "force",
      short: "f",
      type: "bool",
      description: "Force the container to disconnect from a network",
    },
  ],
  async run(ctx, flags, args) {
    await (await ctx.engine()).networkDisconnect(args[0] as string, {
      Container: args[1] as string,
      Force: flags.bool("force"),
    });
    return 0;
  },
};

/** `80/tcp` → [80, "tcp"] for sorting. */
function portKey(k: string): [number, string] {
  const [p = "0", proto = "tcp"] = k.split("/");
  return [Number(p), proto];
}

const portCommand: Command = {
  path: "container port",
  aliases: ["port"],
  usage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
  description: "List port mappings or a specific mapping for the container",
  args: { min: 1, max: 2 },
  flags: [],
  async run(ctx, _flags, args) {
    const c = await (await ctx.engine()).containerInspect(args[0] as string);
    const ports = c.NetworkSettings.Ports;
    const show = (b: PortBinding) => `${b.HostIp ?? ""}:${b.HostPort ?? ""}`;
    if (args[1] !== undefined) {
      const key = args[1].includes("/") ? args[1] : `${args[1]}/tcp`;
      const list = ports[key];
      if (!list || list.length === 0) {
        ctx.io.stderr.write(`Error: No public port '${key}' published for ${args[0]}\n`);
        return 1;
      }
      for (const b of list) ctx.io.stdout.write(`${show(b)}\n`);
      return 0;
    }
    const keys = Object.keys(ports).sort((a, b) => {
      const [pa, ta] = portKey(a);
      const [pb, tb] = portKey(b);
      return pa - pb || ta.localeCompare(tb);
    });
    for (const k of keys) for (const b of ports[k] ?? []) ctx.io.stdout.write(`${k} -> ${show(b)}\n`);
    return 0;
  },
};

export const networkCommands: readonly Command[] = [
  createCommand,
  lsCommand,
  inspectCommand,
  rmCommand,
  pruneCommand,
  connectCommand,
  disconnectCommand,
  portCommand,
];
