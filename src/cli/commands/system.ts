/** System commands: df, version. */

import { invalidArgument } from "../../base/errors.js";
import { hostPlatform } from "../../config/host.js";
import { API_VERSION } from "../../engine/api-version.js";
import { measureStopped, prunedLosses } from "../../engine/removal.js";
import type { BuildCacheRecord, ContainerSummary, SystemInfo, Volume } from "../../engine/types.js";
import { type Command, FORMAT_FLAG, INSPECT_FORMAT_FLAG, none } from "../command.js";
import { parseFilterFlags } from "../flags.js";
import { encodeJson } from "../format/go-json.js";
import { renderInspect, renderList } from "../format/render.js";
import { bytesSize, humanSize, humanSizeWithPrecision } from "../format/units.js";
import { readAnswer } from "../io-helpers.js";
import { containerRow } from "./containers.js";
import { hintsEnabled, pruneSummary } from "./hints.js";
import { createdSince, imageRows } from "./images.js";
import { deletedImageLines, writeDeleted, writeReclaimed } from "./shapes.js";

function reclaimable(size: number, total: number): string {
  if (total <= 0) return humanSize(size);
  return `${humanSize(size)} (${Math.floor((size * 100) / total)}%)`;
}

/** The "Local Volumes" row as Docker computes it from each volume's UsageData. */
function volumesRow(volumes: readonly Volume[]) {
  let size = 0;
  let unused = 0;
  let active = 0;
  for (const v of volumes) {
    const u = v.UsageData;
    if (!u) continue;
    if (u.RefCount > 0) active++;
    if (u.Size < 0) continue;
    size += u.Size;
    if (u.RefCount === 0) unused += u.Size;
  }
  return {
    Type: "Local Volumes",
    TotalCount: String(volumes.length),
    Active: String(active),
    Size: humanSize(size),
    Reclaimable: reclaimable(unused, size),
  };
}

/** The Containers row: every container's writable layer; what is not running is reclaimable. */
function containersRow(containers: readonly ContainerSummary[]) {
  const running = containers.filter((c) => c.State === "running" || c.State === "paused");
  const size = (list: readonly ContainerSummary[]) => list.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const total = size(containers);
  return {
    Type: "Containers",
    TotalCount: String(containers.length),
    Active: String(running.length),
    Size: humanSize(total),
    Reclaimable: reclaimable(total - size(running), total),
  };
}

/** The Build Cache row: cache records with a layer; those no image uses are reclaimable. */
function buildCacheRow(cache: readonly BuildCacheRecord[]) {
  const size = cache.reduce((n, c) => n + c.Size, 0);
  const unused = cache.filter((c) => !c.Shared).reduce((n, c) => n + c.Size, 0);
  return {
    Type: "Build Cache",
    TotalCount: String(cache.length),
    Active: String(cache.filter((c) => c.InUse).length),
    Size: humanSize(size),
    Reclaimable: humanSize(unused),
  };
}

/** The columns of `system df -v`'s sections: the row's field and its header, in order. */
const DF_IMAGE_COLUMNS = [
  ["Repository", "REPOSITORY"],
  ["Tag", "TAG"],
  ["ID", "IMAGE ID"],
  ["CreatedSince", "CREATED"],
  ["Size", "SIZE"],
  ["SharedSize", "SHARED SIZE"],
  ["UniqueSize", "UNIQUE SIZE"],
  ["Containers", "CONTAINERS"],
] as const;
const DF_CONTAINER_COLUMNS = [
  ["ID", "CONTAINER ID"],
  ["Image", "IMAGE"],
  ["Command", "COMMAND"],
  ["LocalVolumes", "LOCAL VOLUMES"],
  ["Size", "SIZE"],
  ["RunningFor", "CREATED"],
  ["Status", "STATUS"],
  ["Names", "NAMES"],
] as const;
const DF_VOLUME_COLUMNS = [
  ["Name", "VOLUME NAME"],
  ["Links", "LINKS"],
  ["Size", "SIZE"],
] as const;
const DF_CACHE_COLUMNS = [
  ["ID", "CACHE ID"],
  ["CacheType", "CACHE TYPE"],
  ["Size", "SIZE"],
  ["CreatedSince", "CREATED"],
  ["LastUsedSince", "LAST USED"],
  ["UsageCount", "USAGE"],
  ["Shared", "SHARED"],
] as const;

/** One section of `system df -v`: a table of `columns`. */
function verboseTable(rows: readonly unknown[], columns: readonly (readonly [string, string])[]): string {
  return renderList(rows, {
    defaultTableFormat: `table ${columns.map(([field]) => `{{.${field}}}`).join("\t")}`,
    headers: Object.fromEntries(columns),
  });
}

const dfCommand: Command = {
  path: "system df",
  usage: "[OPTIONS]",
  description: "Show berth disk usage",
  args: none,
  flags: [
    FORMAT_FLAG,
    { name: "verbose", short: "v", type: "bool", description: "Show detailed information on space usage" },
  ],
  async run(ctx, flags) {
    const du = await (await ctx.engine()).systemDf();
    const active = du.Images.filter((i) => i.Containers > 0);
    const used = active.reduce((s, i) => s + (i.Size - Math.max(0, i.SharedSize)), 0);
    const imagesReclaimable = Math.max(0, du.LayersSize - used);
    const rows = [
      {
        Type: "Images",
        TotalCount: String(du.Images.length),
        Active: String(active.length),
        Size: humanSize(du.LayersSize),
        Reclaimable: reclaimable(imagesReclaimable, du.LayersSize),
      },
      containersRow(du.Containers),
      volumesRow(du.Volumes),
      buildCacheRow(du.BuildCache),
    ];
    if (flags.bool("verbose")) {
      const now = Date.now();
      const volumes = du.Volumes.map((v) => ({
        Name: v.Name,
        Links: String(v.UsageData?.RefCount ?? 0),
        Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : "N/A",
      }));
      const cache = du.BuildCache.map((c) => ({
        ID: c.ID,
        CacheType: c.Type,
        Size: humanSizeWithPrecision(c.Size, 3),
        CreatedSince: createdSince(Date.parse(c.CreatedAt) / 1000, now),
        LastUsedSince: createdSince(Date.parse(c.LastUsedAt) / 1000, now),
        UsageCount: String(c.UsageCount),
        Shared: String(c.Shared),
      }));
      const cacheSize = du.BuildCache.reduce((n, c) => n + c.Size, 0);
      ctx.io.stdout.write(
        `Images space usage:\n\n${verboseTable(imageRows(du.Images, false, now), DF_IMAGE_COLUMNS)}` +
          `\nContainers space usage:\n\n${verboseTable(
            du.Containers.map((c) => containerRow(c, { noTrunc: false, now })),
            DF_CONTAINER_COLUMNS,
          )}` +
          `\nLocal Volumes space usage:\n\n${verboseTable(volumes, DF_VOLUME_COLUMNS)}` +
          `\nBuild cache usage: ${humanSize(cacheSize)}\n\n${verboseTable(cache, DF_CACHE_COLUMNS)}`,
      );
      return 0;
    }
    ctx.io.stdout.write(
      renderList(rows, {
        format: flags.string("format"),
        defaultTableFormat: "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
        headers: {
          Type: "TYPE",
          TotalCount: "TOTAL",
          Active: "ACTIVE",
          Size: "SIZE",
          Reclaimable: "RECLAIMABLE",
        },
      }),
    );
    return 0;
  },
};

/**
 * The client half of `version`: what this CLI is. `ApiVersion` is the version it speaks to the
 * engine (negotiated with a remote one), `DefaultAPIVersion` its newest, as the docker CLI's.
 */
function clientVersion(ctx: { version: string }, apiVersion: string) {
  const host = hostPlatform();
  return {
    Platform: { Name: "berth" },
    Version: ctx.version,
    ApiVersion: apiVersion,
    DefaultAPIVersion: API_VERSION,
    GitCommit: "",
    GoVersion: process.version,
    Os: host.os,
    Arch: host.architecture,
    BuildTime: "",
    Context: "default",
  };
}

/** A single object through `--format`: `json` prints it, anything else is a Go template. */
function formatOne(obj: unknown, format: string): string {
  if (format === "json") return `${encodeJson(obj, { escapeHtml: false })}\n`;
  return renderInspect([obj], format, { rootMissingKey: "default" });
}

const versionCommand: Command = {
  path: "version",
  usage: "[OPTIONS]",
  description: "Show the berth version information",
  args: none,
  flags: [{ ...INSPECT_FORMAT_FLAG, description: "Format output using a custom template" }],
  async run(ctx, flags) {
    // berth has no daemon: the "server" is the engine this CLI opens (or berth serve's, with -H).
    const engine = await ctx.engine();
    const client = clientVersion(ctx, (await engine.apiVersion?.()) ?? API_VERSION);
    const server = await engine.systemVersion();
    const format = flags.string("format");
    if (format !== undefined && format !== "") {
      ctx.io.stdout.write(formatOne({ Client: client, Server: server }, format));
      return 0;
    }
    const component = server.Components.find((c) => c.Name === "Engine");
    const downgraded =
      client.ApiVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : "";
    const lines = [
      "Client:",
      ` Version:           ${client.Version}`,
      ` API version:       ${client.ApiVersion}${downgraded}`,
      ` Node.js version:   ${client.GoVersion}`,
      ` OS/Arch:           ${client.Os}/${client.Arch}`,
      ` Context:           ${client.Context}`,
      "",
      `Server: ${server.Platform.Name}`,
    ];
    // As the docker CLI: the Engine component's details (the top-level fields where a server
    // sends no component), then every other component with its details in key order.
    const d = component?.Details ?? {};
    lines.push(
      " Engine:",
      `  Version:          ${component?.Version ?? server.Version}`,
      `  API version:      ${d.ApiVersion ?? server.ApiVersion} (minimum version ${d.MinAPIVersion ?? server.MinAPIVersion})`,
      `  Node.js version:  ${d.GoVersion ?? server.GoVersion}`,
      `  OS/Arch:          ${d.Os ?? server.Os}/${d.Arch ?? server.Arch}`,
      `  Experimental:     ${d.Experimental ?? "false"}`,
    );
    for (const c of server.Components) {
      if (c.Name === "Engine") continue;
      lines.push(` ${c.Name}:`, `  ${"Version:".padEnd(18)}${c.Version}`);
      for (const k of Object.keys(c.Details ?? {}).sort()) {
        lines.push(`  ${`${k}:`.padEnd(18)}${c.Details?.[k] ?? ""}`);
      }
    }
    ctx.io.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};

/** `docker info`'s text, from the engine's SystemInfo. */
function infoText(ctx: { version: string }, info: SystemInfo, debug: boolean): string {
  const out: string[] = [
    "Client:",
    ` Version:    ${ctx.version}`,
    " Context:    default",
    ` Debug Mode: ${debug}`,
    "",
    "Server:",
    ` Containers: ${info.Containers}`,
    `  Running: ${info.ContainersRunning}`,
    `  Paused: ${info.ContainersPaused}`,
    `  Stopped: ${info.ContainersStopped}`,
    ` Images: ${info.Images}`,
    ` Server Version: ${info.ServerVersion}`,
    ` Storage Driver: ${info.Driver}`,
    ...info.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${info.LoggingDriver}`,
    ` Cgroup Driver: ${info.CgroupDriver}`,
    ` Cgroup Version: ${info.CgroupVersion}`,
    " Plugins:",
    `  Volume: ${info.Plugins.Volume.join(" ")}`,
    `  Network: ${info.Plugins.Network.join(" ")}`,
    `  Log: ${info.Plugins.Log.join(" ")}`,
    ` Swarm: ${info.Swarm.LocalNodeState}`,
    ` Runtimes: ${Object.keys(info.Runtimes).sort().join(" ")}`,
    ` Default Runtime: ${info.DefaultRuntime}`,
    ` Init Binary: ${info.InitBinary}`,
    ` containerd version: ${info.ContainerdCommit.ID}`,
    ` runc version: ${info.RuncCommit.ID}`,
    ` init version: ${info.InitCommit.ID}`,
  ];
  if (info.SecurityOptions.length > 0) {
    out.push(" Security Options:");
    for (const opt of info.SecurityOptions) {
      const fields = Object.fromEntries(
        opt.split(",").map((kv) => {
          const i = kv.indexOf("=");
          return [kv.slice(0, i), kv.slice(i + 1)];
        }),
      );
      out.push(`  ${fields.name ?? opt}`);
      if (fields.profile) out.push(`   Profile: ${fields.profile}`);
    }
  }
  out.push(
    ` Kernel Version: ${info.KernelVersion}`,
    ` Operating System: ${info.OperatingSystem}`,
    ` OSType: ${info.OSType}`,
    ` Architecture: ${info.Architecture}`,
    ` CPUs: ${info.NCPU}`,
    ` Total Memory: ${bytesSize(info.MemTotal)}`,
    ` Name: ${info.Name}`,
    ` ID: ${info.ID}`,
    ` Docker Root Dir: ${info.DockerRootDir}`,
    ` Debug Mode: ${info.Debug}`,
    ` Experimental: ${info.ExperimentalBuild}`,
  );
  if (
    info.RegistryConfig.InsecureRegistryCIDRs.length > 0 ||
    Object.keys(info.RegistryConfig.IndexConfigs).length > 0
  ) {
    out.push(" Insecure Registries:");
    for (const [name, c] of Object.entries(info.RegistryConfig.IndexConfigs))
      if (!c.Secure) out.push(`  ${name}`);
    for (const cidr of info.RegistryConfig.InsecureRegistryCIDRs) out.push(`  ${cidr}`);
  }
  out.push(` Live Restore Enabled: ${info.LiveRestoreEnabled}`, "");
  const text = `${out.join("\n")}\n`;
  const warnings = (info.Warnings ?? []).map((w) => `${w}\n`).join("");
  return warnings ? `${text}${warnings}` : text;
}

const infoCommand: Command = {
  path: "system info",
  aliases: ["info"],
  usage: "[OPTIONS]",
  description: "Display system-wide information",
  args: none,
  flags: [{ ...INSPECT_FORMAT_FLAG, description: "Format output using a custom template" }],
  async run(ctx, flags) {
    const engine = await ctx.engine();
    const info = await engine.systemInfo();
    const format = flags.string("format");
    if (format !== undefined && format !== "") {
      const api = (await engine.apiVersion?.()) ?? API_VERSION;
      const client = { ...clientVersion(ctx, api), Debug: false, Plugins: [], Warnings: null };
      ctx.io.stdout.write(formatOne({ ...info, ClientInfo: client, ClientErrors: null }, format));
      return 0;
    }
    const text = infoText(ctx, info, false);
    // As Docker: warnings go to stderr, the rest to stdout.
    const warnings = (info.Warnings ?? []).map((w) => `${w}\n`).join("");
    ctx.io.stdout.write(warnings ? text.slice(0, text.length - warnings.length) : text);
    if (warnings) ctx.io.stderr.write(warnings);
    return 0;
  },
};

const systemPruneCommand: Command = {
  path: "system prune",
  usage: "[OPTIONS]",
  description: "Remove unused data",
  args: none,
  flags: [
    { name: "all", short: "a", type: "bool", description: "Remove all unused images not just dangling ones" },
    {
      name: "filter",
      type: "list",
      valueName: "filter",
      description: 'Provide filter values (e.g. "label=<key>=<value>")',
    },
    { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
    { name: "volumes", type: "bool", description: "Prune anonymous volumes" },
  ],
  async run(ctx, flags) {
    const filters = parseFilterFlags(flags.list("filter"), "--filter");
    const all = flags.bool("all");
    const withVolumes = flags.bool("volumes");
    for (const k of Object.keys(filters)) {
      if (k !== "until" && k !== "label" && k !== "label!") throw invalidArgument(`invalid filter '${k}'`);
    }
    if (withVolumes && filters.until !== undefined)
      throw invalidArgument('The "until" filter is not supported with "--volumes"');
    if (!flags.bool("force")) {
      const items = [
        "all stopped containers",
        "all networks not used by at least one container",
        ...(withVolumes ? ["all anonymous volumes not used by at least one container"] : []),
        all ? "all images without at least one container associated to them" : "all dangling images",
        all ? "all build cache" : "unused build cache",
      ];
      ctx.io.stdout.write(
        `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join("")}\nAre you sure you want to continue? [y/N] `,
      );
      if (!/^y(es)?$/i.test(await readAnswer(ctx.io.stdin))) return 0;
    }
    const engine = await ctx.engine();
    let reclaimed = 0;
    const before = hintsEnabled(ctx.io.env) ? await measureStopped(engine) : new Map();
    const c = await engine.containerPrune({ filters });
    reclaimed += c.SpaceReclaimed;
    writeDeleted(ctx, "Containers", c.ContainersDeleted);
    const lost = prunedLosses(before, c.ContainersDeleted);
    const n = await engine.networkPrune({ filters });
    writeDeleted(ctx, "Networks", n.NetworksDeleted);
    if (withVolumes) {
      const v = await engine.volumePrune({ filters });
      reclaimed += v.SpaceReclaimed;
      writeDeleted(ctx, "Volumes", v.VolumesDeleted);
    }
    const i = await engine.imagePrune({ filters: { ...filters, dangling: [all ? "false" : "true"] } });
    reclaimed += i.SpaceReclaimed;
    writeDeleted(ctx, "Images", deletedImageLines(i.ImagesDeleted));
    const b = await engine.buildPrune({ All: all, Filters: filters });
    reclaimed += b.SpaceReclaimed;
    writeDeleted(ctx, "build cache objects", b.CachesDeleted);
    writeReclaimed(ctx, reclaimed);
    ctx.io.stderr.write(pruneSummary(lost, ctx.program, { volumesRemoved: withVolumes }));
    return 0;
  },
};

export const systemCommands: readonly Command[] = [
  dfCommand,
  systemPruneCommand,
  versionCommand,
  infoCommand,
];
