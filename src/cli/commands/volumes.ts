import type { Volume } from "../../engine/types.js";
import { atMost, type Command } from "../command.js";
import { type FlagSpec, keyValueFlags } from "../flags.js";
import { renderList } from "../format/render.js";
import { humanSize } from "../format/units.js";
import {
  makeInspectCommand,
  makeListCommand,
  makePruneCommand,
  perName,
  writeDeleted,
  writeReclaimed,
} from "./shapes.js";

/** Docker's sortorder.NaturalLess: digit runs compare as numbers, the rest byte by byte. */
export function naturalLess(a: string, b: string): boolean {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p === q) continue;
    const pd = /^\d/.test(p);
    const qd = /^\d/.test(q);
    if (pd && qd) {
      const pn = p.replace(/^0+/, "");
      const qn = q.replace(/^0+/, "");
      if (pn.length !== qn.length) return pn.length < qn.length;
      if (pn !== qn) return pn < qn;
      return p.length < q.length;
    }
    return p < q;
  }
  return x.length < y.length;
}

/** `objects` sorted by name in `naturalLess` order, as `volume ls` and `network ls` list them. */
export function byNaturalName<T extends { readonly Name: string }>(objects: readonly T[]): T[] {
  return [...objects].sort((a, b) =>
    naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0,
  );
}

/** `-o/--opt` of `volume create` and `network create`: the driver's options. */
export const DRIVER_OPTS_FLAG: FlagSpec = {
  name: "opt",
  short: "o",
  type: "list",
  valueName: "map",
  description: "Set driver specific options",
  defaultText: "map[]",
};

/** One row of `volume ls` (docker/cli's volumeContext): fields, plus the `Label` method. */
export class VolumeRow {
  readonly Availability: string = "N/A";
  readonly CreatedAt: string;
  readonly Driver: string;
  readonly Group: string = "N/A";
  readonly Labels: string;
  readonly Links: string;
  readonly Mountpoint: string;
  readonly Name: string;
  readonly Scope: string;
  readonly Size: string;
  readonly Status: string = "N/A";
  readonly #labels: Readonly<Record<string, string>>;

  constructor(v: Volume) {
    this.#labels = v.Labels;
    this.CreatedAt = v.CreatedAt;
    this.Driver = v.Driver;
    this.Labels = Object.entries(v.Labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, val]) => `${k}=${val}`)
      .join(",");
    this.Links = v.UsageData ? String(v.UsageData.RefCount) : "N/A";
    this.Mountpoint = v.Mountpoint;
    this.Name = v.Name;
    this.Scope = v.Scope;
    this.Size = v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : "N/A";
  }

  Label(name: unknown): string {
    return this.#labels[String(name)] ?? "";
  }
}

const VOLUME_HEADERS = {
  Name: "VOLUME NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  Mountpoint: "MOUNTPOINT",
  Labels: "LABELS",
  Links: "LINKS",
  Size: "SIZE",
  Group: "GROUP",
  Availability: "AVAILABILITY",
  Status: "STATUS",
};

/** Renders volumes as `volume ls` does (also used by `system df -v`). */
export function renderVolumes(
  volumes: readonly Volume[],
  opts: { format?: string | undefined; quiet?: boolean; defaultTableFormat?: string },
): string {
  return renderList(
    byNaturalName(volumes).map((v) => new VolumeRow(v)),
    {
      format: opts.format,
      defaultTableFormat: opts.defaultTableFormat ?? "table {{.Driver}}\t{{.Name}}",
      headers: VOLUME_HEADERS,
      quiet: opts.quiet ?? false,
      quietFormat: "{{.Name}}",
      typeName: "*formatter.volumeContext",
    },
  );
}

const createCommand: Command = {
  path: "volume create",
  usage: "[OPTIONS] [VOLUME]",
  description: "Create a volume",
  args: atMost(1),
  flags: [
    {
      name: "driver",
      short: "d",
      type: "string",
      valueName: "string",
      description: "Specify volume driver name",
      defaultText: '"local"',
    },
    { name: "label", type: "list", valueName: "list", description: "Set metadata for a volume" },
    { name: "name", type: "string", valueName: "string", description: "Specify volume name", hidden: true },
    DRIVER_OPTS_FLAG,
  ],
  async run(ctx, flags, args) {
    const flagName = flags.string("name");
    if (flagName !== undefined && args[0] !== undefined) {
      ctx.io.stderr.write(
        "conflicting options: cannot specify a volume-name through both --name and as a positional arg\n",
      );
      return 1;
    }
    const name = args[0] ?? flagName;
    const driver = flags.string("driver");
    const vol = await (await ctx.engine()).volumeCreate({
      ...(name !== undefined ? { Name: name } : {}),
      Driver: driver ?? "local",
      DriverOpts: keyValueFlags(flags.list("opt")),
      Labels: keyValueFlags(flags.list("label")),
    });
    ctx.io.stdout.write(`${vol.Name}\n`);
    return 0;
  },
};

const lsCommand = makeListCommand({
  path: "volume ls",
  aliases: ["volume list"],
  description: "List volumes",
  filterExample: "dangling=true",
  quiet: "Only display volume names",
  list: async ({ ctx, engine, filters, flags }) => {
    const res = await engine.volumeList({ filters });
    for (const w of res.Warnings) ctx.io.stderr.write(`${w}\n`);
    return renderVolumes(res.Volumes, { format: flags.string("format"), quiet: flags.bool("quiet") });
  },
});

const inspectCommand = makeInspectCommand({
  path: "volume inspect",
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  description: "Display detailed information on one or more volumes",
  lookup: (engine, name) => engine.volumeInspect(name),
});

const rmCommand = perName({
  path: "volume rm",
  aliases: ["volume remove"],
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  description: "Remove one or more volumes. You cannot remove a volume that is in use by a container.",
  flags: [
    { name: "force", short: "f", type: "bool", description: "Force the removal of one or more volumes" },
  ],
  act: (engine, name, flags) => engine.volumeRemove(name, { force: flags.bool("force") }),
});

const pruneCommand = makePruneCommand({
  path: "volume prune",
  description: "Remove unused local volumes",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused volumes, not just anonymous ones",
    },
  ],
  filterExample: "label=<label>",
  filters: (ctx, filters, flags) => {
    if (!flags.bool("all")) return undefined;
    if (filters.all) {
      ctx.io.stderr.write("conflicting options: cannot specify both --all and --filter all=1\n");
      return 1;
    }
    filters.all = ["true"];
    return undefined;
  },
  question: (flags) =>
    `${
      flags.bool("all")
        ? "WARNING! This will remove all local volumes not used by at least one container."
        : "WARNING! This will remove anonymous local volumes not used by at least one container."
    }\nAre you sure you want to continue?`,
  prune: async (ctx, engine, filters) => {
    const report = await engine.volumePrune({ filters });
    writeDeleted(ctx, "Volumes", report.VolumesDeleted);
    writeReclaimed(ctx, report.SpaceReclaimed);
  },
});

export const volumeCommands: readonly Command[] = [
  createCommand,
  lsCommand,
  inspectCommand,
  rmCommand,
  pruneCommand,
];
