/** Image commands: images/ls, inspect, history, tag, rmi, prune, import, save, load. */
import { invalidArgument } from "../../base/errors.js";
import type { Engine } from "../../engine/engine.js";
import { imageUsers } from "../../engine/removal.js";
import type {
  HistoryResponseItem,
  ImageArchiveFormat,
  ImageInspect,
  ImageSummary,
} from "../../engine/types.js";
import { formatPlatform, matchPlatform, type Platform, parsePlatform } from "../../oci/platform.js";
import { familiarString, parseNormalizedNamed } from "../../oci/reference.js";
import { atLeast, atMost, type Command, exactly, FORMAT_FLAG, none } from "../command.js";
import { UsageError } from "../flags.js";
import { renderList } from "../format/render.js";
import { humanDuration, humanSizeWithPrecision } from "../format/units.js";
import { openInput, validateOutputPath, writeOutputDirectory, writeOutputFile } from "../io-helpers.js";
import { hintsEnabled, rmiForcedHint, rmiRefusalHint } from "./hints.js";
import {
  deletedImageLines,
  makeInspectCommand,
  makeListCommand,
  makePruneCommand,
  perName,
  writeDeleted,
  writeReclaimed,
} from "./shapes.js";

const NONE = "<none>";

/** Go's time.Time String() for a Unix time, in UTC: "2024-10-22 09:00:00 +0000 UTC". */
export function goTime(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

export function createdSince(seconds: number, now = Date.now()): string {
  if (seconds <= 0) return "N/A";
  return `${humanDuration(now - seconds * 1000)} ago`;
}

/** Docker's stringutils.Ellipsis: at most `max` characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join("")}…`;
}

function shortImageId(id: string, noTrunc: boolean): string {
  if (noTrunc) return id;
  return id.replace(/^sha256:/, "").slice(0, 12);
}

interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

/** One row per repository:tag of each image (and one `<none>` row for an untagged one), as Docker. */
export function imageRows(images: readonly ImageSummary[], noTrunc: boolean, now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const base = {
      Containers: img.Containers >= 0 ? String(img.Containers) : "N/A",
      CreatedAt: goTime(img.Created),
      CreatedSince: createdSince(img.Created, now),
      ID: shortImageId(img.Id, noTrunc),
      SharedSize: img.SharedSize >= 0 ? humanSizeWithPrecision(img.SharedSize, 3) : "N/A",
      Size: humanSizeWithPrecision(img.Size, 3),
      UniqueSize: img.SharedSize >= 0 ? humanSizeWithPrecision(img.Size - img.SharedSize, 3) : "N/A",
      VirtualSize: humanSizeWithPrecision(img.Size, 3),
    };
    const digestsByRepo = new Map<string, string[]>();
    for (const rd of img.RepoDigests) {
      const at = rd.lastIndexOf("@");
      const repo = rd.slice(0, at);
      digestsByRepo.set(repo, [...(digestsByRepo.get(repo) ?? []), rd.slice(at + 1)]);
    }
    const seenRepos = new Set<string>();
    for (const rt of img.RepoTags) {
      const colon = rt.lastIndexOf(":");
      const repo = colon > rt.lastIndexOf("/") ? rt.slice(0, colon) : rt;
      const tag = colon > rt.lastIndexOf("/") ? rt.slice(colon + 1) : NONE;
      seenRepos.add(repo);
      rows.push({ ...base, Repository: repo, Tag: tag, Digest: digestsByRepo.get(repo)?.[0] ?? NONE });
    }
    for (const [repo, digests] of digestsByRepo) {
      if (seenRepos.has(repo)) continue;
      for (const d of digests) rows.push({ ...base, Repository: repo, Tag: NONE, Digest: d });
    }
    if (img.RepoTags.length === 0 && img.RepoDigests.length === 0) {
      rows.push({ ...base, Repository: NONE, Tag: NONE, Digest: NONE });
    }
  }
  return rows;
}

const IMAGE_HEADERS = {
  Containers: "CONTAINERS",
  CreatedAt: "CREATED AT",
  CreatedSince: "CREATED",
  Digest: "DIGEST",
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  SharedSize: "SHARED SIZE",
  Size: "SIZE",
  Tag: "TAG",
  UniqueSize: "UNIQUE SIZE",
  VirtualSize: "VIRTUAL SIZE",
};

const imagesCommand = makeListCommand({
  path: "image ls",
  aliases: ["images", "image list"],
  usage: "[OPTIONS] [REPOSITORY[:TAG]]",
  description: "List images",
  args: atMost(1),
  quiet: "Only show image IDs",
  noTrunc: "Don't truncate output",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Show all images (default hides intermediate images)",
    },
    { name: "digests", type: "bool", description: "Show digests" },
  ],
  list: async ({ engine, filters, flags, args }) => {
    if (args[0]) filters.reference = [...(filters.reference ?? []), args[0]];
    const images = await engine.imageList({
      all: flags.bool("all"),
      filters,
      digests: flags.bool("digests"),
    });
    let rows = imageRows(images, flags.bool("no-trunc"));
    let format = flags.string("format");
    if (flags.bool("quiet")) {
      format = "{{.ID}}";
      // Docker prints each image ID once in quiet mode.
      const seen = new Set<string>();
      rows = rows.filter((r) => !seen.has(r.ID) && seen.add(r.ID) !== undefined);
    }
    const defaultTableFormat = flags.bool("digests")
      ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
      : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    return renderList(rows, { format, defaultTableFormat, headers: IMAGE_HEADERS });
  },
});

const imageInspectCommand = makeInspectCommand({
  path: "image inspect",
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  description: "Display detailed information on one or more images",
  flags: [
    {
      name: "platform",
      type: "string",
      valueName: "string",
      description: "Inspect a specific platform of the multi-platform image.",
    },
  ],
  lookup: async (engine, name, flags) => {
    const platform = flags.string("platform");
    return platform !== undefined ? requirePlatform(engine, name, platform) : engine.imageInspect(name);
  },
  missing: (name) => `No such image: ${name}`,
});

/**
 * `--platform` of inspect, history and save. The store keeps one platform per image, so the
 * platform asked for selects the image itself when it is of that platform (or one it runs on);
 * otherwise Docker's error. Returns the image's inspect. A one-word specifier (`linux`, `arm64`) is completed with the engine's.
 */
async function requirePlatform(engine: Engine, name: string, specifier: string): Promise<ImageInspect> {
  let host: Platform | undefined;
  if (!specifier.includes("/")) {
    const v = await engine.systemVersion();
    host = { os: v.Os, architecture: v.Arch };
  }
  const wanted = parsePlatform(specifier, host);
  const img = await engine.imageInspect(name);
  const actual: Platform = {
    os: img.Os,
    architecture: img.Architecture,
    ...(img.Variant ? { variant: img.Variant } : {}),
  };
  // An argument error rather than "not found": inspect would otherwise say "No such image".
  if (!matchPlatform(wanted, actual))
    throw invalidArgument(
      `image with reference ${name} was found but does not match the specified platform: wanted ${formatPlatform(wanted)}, actual: ${formatPlatform(actual)}`,
    );
  return img;
}

interface HistoryRow {
  Comment: string;
  CreatedAt: string;
  CreatedBy: string;
  CreatedSince: string;
  ID: string;
  Size: string;
}

export function historyRows(
  items: readonly HistoryResponseItem[],
  opts: { human: boolean; noTrunc: boolean },
  now = Date.now(),
): HistoryRow[] {
  return items.map((h) => {
    const createdBy = h.CreatedBy.replaceAll("\t", " ");
    const createdAt = new Date(h.Created * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
      Comment: h.Comment,
      CreatedAt: createdAt,
      CreatedBy: opts.noTrunc ? createdBy : ellipsis(createdBy, 45),
      CreatedSince: opts.human ? createdSince(h.Created, now) : createdAt,
      ID: h.Id === "<missing>" ? h.Id : shortImageId(h.Id, opts.noTrunc),
      Size: opts.human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
    };
  });
}

const historyCommand: Command = {
  path: "image history",
  aliases: ["history"],
  usage: "[OPTIONS] IMAGE",
  description: "Show the history of an image",
  args: exactly(1),
  flags: [
    FORMAT_FLAG,
    {
      name: "human",
      short: "H",
      type: "bool",
      description: "Print sizes and dates in human readable format",
      defaultText: "true",
    },
    { name: "no-trunc", type: "bool", description: "Don't truncate output" },
    {
      name: "platform",
      type: "string",
      valueName: "string",
      description: "Show history for the given platform",
    },
    { name: "quiet", short: "q", type: "bool", description: "Only show image IDs" },
  ],
  async run(ctx, flags, args) {
    const engine = await ctx.engine();
    const platform = flags.string("platform");
    if (platform !== undefined) await requirePlatform(engine, args[0] as string, platform);
    const items = await engine.imageHistory(args[0] as string);
    const rows = historyRows(items, { human: flags.bool("human", true), noTrunc: flags.bool("no-trunc") });
    const format = flags.bool("quiet") ? "{{.ID}}" : flags.string("format");
    ctx.io.stdout.write(
      renderList(rows, {
        format,
        defaultTableFormat: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
        headers: {
          ID: "IMAGE",
          CreatedSince: "CREATED",
          CreatedAt: "CREATED AT",
          CreatedBy: "CREATED BY",
          Size: "SIZE",
          Comment: "COMMENT",
        },
      }),
    );
    return 0;
  },
};

const tagCommand: Command = {
  path: "image tag",
  aliases: ["tag"],
  usage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
  description: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  args: exactly(2),
  flags: [],
  async run(ctx, _flags, args) {
    await (await ctx.engine()).imageTag(args[0] as string, args[1] as string);
    return 0;
  },
};

const rmiCommand = perName({
  path: "image rm",
  aliases: ["rmi", "image remove"],
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  description: "Remove one or more images",
  flags: [
    { name: "force", short: "f", type: "bool", description: "Force removal of the image" },
    { name: "no-prune", type: "bool", description: "Do not delete untagged parents" },
  ],
  act: (engine, name, flags) =>
    engine.imageRemove(name, { force: flags.bool("force"), noprune: flags.bool("no-prune") }),
  report: (_name, items) =>
    items
      .flatMap((i) => [
        ...(i.Untagged ? [`Untagged: ${i.Untagged}\n`] : []),
        ...(i.Deleted ? [`Deleted: ${i.Deleted}\n`] : []),
      ])
      .join(""),
  missingOk: (flags) => flags.bool("force"),
  hint: async (ctx, engine, name, flags) => {
    // The containers using the image, measured before a forced removal, for rmiForcedHint.
    const users = hintsEnabled(ctx.io.env) && flags.bool("force") ? await imageUsers(engine, name) : [];
    return async (items) => {
      const first = users[0];
      if (first && !items.some((i) => i.Deleted === first.ImageID))
        ctx.io.stderr.write(rmiForcedHint(first.ImageID, users, ctx.program));
    };
  },
  failed: async (ctx, engine, name, err) => {
    if (hintsEnabled(ctx.io.env) && err.kind === "Conflict")
      ctx.io.stderr.write(rmiRefusalHint(name, await imageUsers(engine, name), ctx.program));
  },
});

const pruneCommand = makePruneCommand({
  path: "image prune",
  description: "Remove unused images",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused images, not just dangling ones",
    },
  ],
  filterExample: "until=<timestamp>",
  filters: (_ctx, filters, flags) => {
    if (flags.bool("all")) filters.dangling = ["false"];
    else if (!filters.dangling) filters.dangling = ["true"];
    return undefined;
  },
  question: (flags) =>
    `${
      flags.bool("all")
        ? "WARNING! This will remove all images without at least one container associated to them."
        : "WARNING! This will remove all dangling images."
    }\nAre you sure you want to continue?`,
  declineEndsLine: true,
  prune: async (ctx, engine, filters) => {
    const report = await engine.imagePrune({ filters });
    writeDeleted(ctx, "Images", deletedImageLines(report.ImagesDeleted));
    writeReclaimed(ctx, report.SpaceReclaimed);
  },
});

const importCommand: Command = {
  path: "image import",
  aliases: ["import"],
  usage: "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
  description: "Import the contents from a tarball to create a filesystem image",
  args: { min: 1, max: 2 },
  flags: [
    {
      name: "change",
      short: "c",
      type: "list",
      valueName: "list",
      description: "Apply Dockerfile instruction to the created image",
    },
    {
      name: "message",
      short: "m",
      type: "string",
      valueName: "string",
      description: "Set commit message for imported image",
    },
    {
      name: "platform",
      type: "string",
      valueName: "string",
      description: "Set platform if server is multi-platform capable",
    },
  ],
  async run(ctx, flags, args) {
    const file = args[0] as string;
    if (/^https?:\/\//i.test(file)) throw invalidArgument(`importing from a URL is not supported: ${file}`);
    const engine = await ctx.engine();
    const source =
      file === "-"
        ? (ctx.io.stdin as unknown as AsyncIterable<Uint8Array>)
        : await openInput(file, ctx.io.cwd);
    const message = flags.string("message");
    const platform = flags.string("platform");
    const result = await engine.imageImport(source, {
      changes: flags.list("change"),
      ...(args[1] ? { reference: args[1] } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(platform ? { platform } : {}),
    });
    ctx.io.stdout.write(`${result.id}\n`);
    return 0;
  },
};

const ARCHIVE_FORMATS = ["docker-archive", "oci-archive", "oci-dir"] as const;

const saveCommand: Command = {
  path: "image save",
  aliases: ["save"],
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  description: "Save one or more images to a tar archive (streamed to STDOUT by default)",
  args: atLeast(1),
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      valueName: "string",
      description: "Write to a file, instead of STDOUT",
    },
    {
      name: "format",
      type: "string",
      valueName: "string",
      description:
        "Archive format: docker-archive (also an OCI layout), oci-archive, or oci-dir (a directory; needs -o)",
      defaultText: '"docker-archive"',
    },
    {
      name: "platform",
      type: "string",
      valueName: "string",
      description: "Save only the given platform variant",
    },
  ],
  async run(ctx, flags, args) {
    const fmt = flags.string("format") ?? "docker-archive";
    if (!(ARCHIVE_FORMATS as readonly string[]).includes(fmt)) {
      throw new UsageError(
        `invalid --format ${JSON.stringify(fmt)}: expected one of ${ARCHIVE_FORMATS.join(", ")}`,
      );
    }
    const output = flags.string("output");
    if (fmt === "oci-dir" && !output) throw new UsageError("--format oci-dir needs -o DIRECTORY");
    if (!output && ctx.io.stdout.isTTY) {
      throw invalidArgument("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    if (output) await validateOutputPath(resolvePath(ctx.io.cwd, output), "failed to save image");
    const engine = await ctx.engine();
    const platform = flags.string("platform");
    if (platform !== undefined) for (const name of args) await requirePlatform(engine, name, platform);
    const format: ImageArchiveFormat = fmt === "docker-archive" ? "docker-archive" : "oci-archive";
    const stream = await engine.imageSave(args, { format });
    if (output && fmt === "oci-dir") await writeOutputDirectory(resolvePath(ctx.io.cwd, output), stream);
    else if (output) await writeOutputFile(resolvePath(ctx.io.cwd, output), stream);
    else {
      for await (const chunk of stream) {
        if (!ctx.io.stdout.write(chunk)) await new Promise((r) => ctx.io.stdout.once("drain", r));
      }
    }
    return 0;
  },
};

function resolvePath(cwd: string, p: string): string {
  return p.startsWith("/") ? p : `${cwd.replace(/\/$/, "")}/${p}`;
}

const loadCommand: Command = {
  path: "image load",
  aliases: ["load"],
  usage: "[OPTIONS]",
  description: "Load an image from a tar archive or STDIN",
  args: none,
  flags: [
    {
      name: "input",
      short: "i",
      type: "string",
      valueName: "string",
      description: "Read from tar archive file (or OCI layout directory), instead of STDIN",
    },
    {
      name: "platform",
      type: "string",
      valueName: "string",
      description: "Load only the given platform variant",
    },
    { name: "quiet", short: "q", type: "bool", description: "Suppress the load output" },
  ],
  async run(ctx, flags) {
    const input = flags.string("input");
    if (!input && ctx.io.stdin.isTTY) {
      throw invalidArgument("requested load from stdin, but stdin is empty");
    }
    const source = input
      ? await openInput(input, ctx.io.cwd)
      : (ctx.io.stdin as unknown as AsyncIterable<Uint8Array>);
    const engine = await ctx.engine();
    const platform = flags.string("platform");
    const result = await engine.imageLoad(source, {
      quiet: flags.bool("quiet"),
      ...(platform ? { platform } : {}),
    });
    for (const r of result.replaced ?? []) {
      ctx.io.stdout.write(
        `The image ${familiarName(r.reference)} already exists, renaming the old one with ID ${r.previous} to empty string\n`,
      );
    }
    for (const l of result.loaded) {
      ctx.io.stdout.write(
        l.reference ? `Loaded image: ${familiarName(l.reference)}\n` : `Loaded image ID: ${l.id}\n`,
      );
    }
    return 0;
  },
};

/** docker.io/library/x:t → x:t for messages (the engine returns full references). */
function familiarName(ref: string): string {
  return familiarString(parseNormalizedNamed(ref));
}

export const imageCommands: readonly Command[] = [
  imagesCommand,
  imageInspectCommand,
  historyCommand,
  tagCommand,
  rmiCommand,
  pruneCommand,
  importCommand,
  saveCommand,
  loadCommand,
];
