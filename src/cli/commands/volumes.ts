import type { Volume } from "../../engine/types.js";
import { atLeast, atMost, type Command, FORMAT_FLAG, INSPECT_FORMAT_FLAG, none } from "../command.js";
import { keyValueFlags, parseFilterFlags } from "../flags.js";
import { renderList } from "../format/render.js";
import { humanSize } from "../format/units.js";
import { readAnswer } from "../io-helpers.js";
import { forEachName } from "./each.js";
import { inspectEach } from "./inspect-each.js";

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
  const sorted = [...volumes].sort((a, b) =>
    naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0,
  );
  return renderList(
    sorted.map((v) => new VolumeRow(v)),
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
    {
      name: "opt",
      short: "o",
      type: "list",
      valueName: "map",
      description: "Set driver specific options",
      defaultText: "map[]",
    },
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

const lsCommand: Command = {
  path: "volume ls",
  aliases: ["volume list"],
  usage: "[OPTIONS]",
  description: "List volumes",
  args: none,
  flags: [
    {
      name: "filter",
      short: "f",
      type: "list",
      valueName: "filter",
      description: 'Provide filter values (e.g. "dangling=true")',
    },
    FORMAT_FLAG,
    { name: "quiet", short: "q", type: "bool", description: "Only display volume names" },
  ],
  async run(ctx, flags) {
    const filters = parseFilterFlags(flags.list("filter"), "-f, --filter");
    const res = await (await ctx.engine()).volumeList({ filters });
    for (const w of res.Warnings) ctx.io.stderr.write(`${w}\n`);
    ctx.io.stdout.write(
      renderVolumes(res.Volumes, { format: flags.string("format"), quiet: flags.bool("quiet") }),
    );
    return 0;
  },
};

const inspectCommand: Command = {
  path: "volume inspect",
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  description: "Display detailed information on one or more volumes",
  args: atLeast(1),
  flags: [INSPECT_FORMAT_FLAG],
  async run(ctx, flags, args) {
    const engine = await ctx.engine();
    return inspectEach(ctx, args, {
      format: flags.string("format"),
      lookup: (name) => engine.volumeInspect(name),
    });
  },
};

const rmCommand: Command = {
  path: "volume rm",
  aliases: ["volume remove"],
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  description: "Remove one or more volumes. You cannot remove a volume that is in use by a container.",
  args: atLeast(1),
  flags: [
    { name: "force", short: "f", type: "bool", description: "Force the removal of one or more volumes" },
  ],
  async run(ctx, flags, args) {
    const engine = await ctx.engine();
    return forEachName(ctx, args, async (name) => {
      await engine.volumeRemove(name, { force: flags.bool("force") });
      ctx.io.stdout.write(`${name}\n`);
    });
  },
};

const pruneCommand: Command = {
  path: "volume prune",
  usage: "[OPTIONS]",
  description: "Remove unused local volumes",
  args: none,
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused volumes, not just anonymous ones",
    },
    {
      name: "filter",
      type: "list",
      valueName: "filter",
      description: 'Provide filter values (e.g. "label=<label>")',
    },
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
  ],
  async run(ctx, flags) {
    const filters = parseFilterFlags(flags.list("filter"), "--filter");
    const all = flags.bool("all");
    if (all) {
      if (filters.all) {
        ctx.io.stderr.write("conflicting options: cannot specify both --all and --filter all=1\n");
        return 1;
      }
      filters.all = ["true"];
    }
    if (!flags.bool("force")) {
      const warning = all
        ? "WARNING! This will remove all local volumes not used by at least one container."
        : "WARNING! This will remove anonymous local volumes not used by at least one container.";
      ctx.io.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
      const answer = await readAnswer(ctx.io.stdin);
      if (!/^y(es)?$/i.test(answer)) return 0;
    }
    const report = await (await ctx.engine()).volumePrune({ filters });
    if (report.VolumesDeleted.length > 0) {
      ctx.io.stdout.write(`Deleted Volumes:\n${report.VolumesDeleted.map((n) => `${n}\n`).join("")}\n`);
    }
    ctx.io.stdout.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
    return 0;
  },
};

export const volumeCommands: readonly Command[] = [
  createCommand,
  lsCommand,
  inspectCommand,
  rmCommand,
  pruneCommand,
];
