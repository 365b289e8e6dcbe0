/**
 * `berth build` (Docker's flags; BuildKit's progress on stderr: a live view on a terminal, plain
 * `#N` lines otherwise) and `berth builder prune`.
 */
import { createReadStream } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { errorMessage, invalidArgument, isBerthError, notFound } from "../../base/errors.js";
import type {
  BuildContextSource,
  BuildEvent,
  BuildVertexEvent,
  ImageBuildOptions,
} from "../../engine/types.js";
import { readTextIfExists, statIfExists, writeFileAtomic } from "../../sys/fs.js";
import { type Command, exactly } from "../command.js";
import { keyValueFlags, UsageError } from "../flags.js";
import { hintsEnabled } from "./hints.js";
import { makePruneCommand, writeDeleted, writeReclaimed } from "./shapes.js";

type Writable = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}

async function* once(data: Uint8Array): AsyncIterable<Uint8Array> {
  yield data;
}

function looksLikeArchive(b: Buffer): boolean {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
  return b.length >= 262 && b.subarray(257, 262).toString("latin1") === "ustar";
}

/** `KEY=VALUE` or `KEY` (value from the environment, as Docker's --build-arg). */
function buildArgs(values: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid argument "${v}" for "--build-arg" flag: invalid key`);
    if (eq > 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else out[v] = env[v] ?? null;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Progress

/** BuildKit's plain progress: `#5 [2/5] RUN npm install`, output lines, `#5 DONE 0.3s`. */
export class PlainProgress {
  private readonly started = new Map<number, number>();
  private readonly names = new Map<number, string>();
  private readonly tails = new Map<number, string[]>();
  private readonly partial = new Map<number, string>();
  private last: number | undefined;
  private failedId: number | undefined;

  constructor(
    private readonly out: Writable,
    private readonly now: () => number = Date.now,
  ) {}

  private header(id: number): void {
    if (this.last === id) return;
    if (this.last !== undefined) this.out.write("\n");
    this.last = id;
  }

  event(e: BuildEvent): void {
    if (e.kind === "result") return;
    if (e.kind === "vertex") {
      this.names.set(e.id, e.name);
      if (e.status === "started") {
        this.started.set(e.id, this.now());
        this.header(e.id);
        this.out.write(`#${e.id} ${e.name}\n`);
        return;
      }
      this.flush(e.id);
      this.header(e.id);
      if (e.status === "cached") {
        this.out.write(`#${e.id} CACHED\n`);
      } else if (e.status === "canceled") {
        this.out.write(`#${e.id} CANCELED\n`);
      } else if (e.status === "done") {
        this.out.write(`#${e.id} DONE ${((e.durationMs ?? 0) / 1000).toFixed(1)}s\n`);
      } else {
        this.failedId = e.id;
        this.out.write(`#${e.id} ERROR: ${e.error ?? ""}\n`);
      }
      return;
    }
    this.header(e.id);
    const name = this.names.get(e.id) ?? "";
    const internal = name.startsWith("[internal]") || name.startsWith("exporting");
    const text = (this.partial.get(e.id) ?? "") + Buffer.from(e.data).toString("utf8");
    const lines = text.split("\n");
    this.partial.set(e.id, lines.pop() ?? "");
    const since = ((this.now() - (this.started.get(e.id) ?? this.now())) / 1000).toFixed(3);
    for (const l of lines) {
      this.out.write(internal ? `#${e.id} ${l}\n` : `#${e.id} ${since} ${l}\n`);
      const tail = this.tails.get(e.id) ?? [];
      tail.push(l);
      if (tail.length > 10) tail.shift();
      this.tails.set(e.id, tail);
    }
  }

  private flush(id: number): void {
    const rest = this.partial.get(id);
    if (rest) {
      this.partial.delete(id);
      this.event({ kind: "log", id, stream: 1, data: Buffer.from(`${rest}\n`) });
    }
  }

  /** The failed step's summary block, as BuildKit prints it after an error. */
  failure(): string {
    if (this.failedId === undefined) return "";
    const id = this.failedId;
    const name = this.names.get(id) ?? "";
    const tail = (this.tails.get(id) ?? []).map((l) => `${l}\n`).join("");
    return `------\n > ${name}:\n${tail}------\n`;
  }

  end(): void {
    if (this.last !== undefined) this.out.write("\n");
  }
}

interface TtyVertex {
  name: string;
  status: BuildVertexEvent["status"];
  start: number;
  duration: number | undefined;
  lines: string[];
  partial: string;
}

/** BuildKit's terminal view: `[+] Building 1.2s (5/8)`, one line per step, the running step's output. */
export class TtyProgress {
  private readonly vertices = new Map<number, TtyVertex>();
  private drawn = 0;
  private readonly start: number;
  private timer: NodeJS.Timeout | undefined;
  private failedId: number | undefined;

  constructor(
    private readonly out: Writable,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
    this.timer = setInterval(() => this.draw(false), 150);
    this.timer.unref();
  }

  event(e: BuildEvent): void {
    if (e.kind === "result") return;
    if (e.kind === "vertex") {
      const v = this.vertices.get(e.id) ?? {
        name: e.name,
        status: e.status,
        start: this.now(),
        duration: undefined,
        lines: [],
        partial: "",
      };
      v.status = e.status;
      if (e.status !== "started") v.duration = e.durationMs ?? 0;
      if (e.status === "error") this.failedId = e.id;
      this.vertices.set(e.id, v);
      return;
    }
    const v = this.vertices.get(e.id);
    if (!v) return;
    const lines = (v.partial + Buffer.from(e.data).toString("utf8")).split("\n");
    v.partial = lines.pop() ?? "";
    v.lines.push(...lines);
    if (v.lines.length > 50) v.lines.splice(0, v.lines.length - 50);
  }

  private draw(final: boolean): void {
    const width = Math.max(40, (this.out.columns ?? 80) - 1);
    const all = [...this.vertices.values()];
    const done = all.filter((v) => v.status !== "started").length;
    const elapsed = ((this.now() - this.start) / 1000).toFixed(1);
    const rows = [`[+] Building ${elapsed}s (${done}/${all.length})${final ? " FINISHED" : ""}`];
    for (const v of all) {
      const secs = ((v.duration ?? this.now() - v.start) / 1000).toFixed(1);
      const mark = { cached: "CACHED ", error: "ERROR ", canceled: "CANCELED ", started: "", done: "" }[
        v.status
      ];
      const label = `${mark}${v.name}`;
      const left = ` => ${label}`;
      const right = `${secs}s`;
      const room = width - right.length - 1;
      rows.push(`${left.length > room ? `${left.slice(0, room - 1)}…` : left.padEnd(room)} ${right}`);
      if (v.status === "started" && !final) {
        for (const l of v.lines.slice(-6)) rows.push(` => => # ${l}`.slice(0, width));
      }
    }
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A\x1b[J` : "";
    text += `${rows.join("\n")}\n`;
    this.out.write(text);
    this.drawn = rows.length;
  }

  failure(): string {
    if (this.failedId === undefined) return "";
    const v = this.vertices.get(this.failedId);
    if (!v) return "";
    const tail = v.lines
      .slice(-10)
      .map((l) => `${l}\n`)
      .join("");
    return `------\n > ${v.name}:\n${tail}------\n`;
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw(true);
  }
}

// ---------------------------------------------------------------------------------------------
// The command

const buildCommand: Command = {
  path: "image build",
  aliases: ["build", "builder build"],
  usage: "[OPTIONS] PATH | URL | -",
  description: "Build an image from a Dockerfile",
  args: exactly(1),
  flags: [
    { name: "build-arg", type: "list", valueName: "stringArray", description: "Set build-time variables" },
    {
      name: "file",
      short: "f",
      type: "string",
      valueName: "string",
      description: 'Name of the Dockerfile (default: "PATH/Dockerfile")',
    },
    { name: "iidfile", type: "string", valueName: "string", description: "Write the image ID to a file" },
    { name: "label", type: "list", valueName: "stringArray", description: "Set metadata for an image" },
    {
      name: "network",
      type: "string",
      valueName: "string",
      description: 'Set the networking mode for the "RUN" instructions during build',
      defaultText: '"default"',
    },
    { name: "no-cache", type: "bool", description: "Do not use cache when building the image" },
    {
      name: "explain-cache",
      type: "bool",
      description: "Say under every step why the build cache served it or not (berth)",
    },
    {
      name: "progress",
      type: "string",
      valueName: "string",
      description:
        'Set type of progress output ("auto", "quiet", "plain", "tty"). Use plain to show container output',
      defaultText: '"auto"',
    },
    { name: "pull", type: "bool", description: "Always attempt to pull all referenced images" },
    {
      name: "quiet",
      short: "q",
      type: "bool",
      description: "Suppress the build output and print image ID on success",
    },
    {
      name: "tag",
      short: "t",
      type: "list",
      valueName: "stringArray",
      description: 'Name and optionally a tag (format: "name:tag")',
    },
    {
      name: "target",
      type: "string",
      valueName: "string",
      description: "Set the target build stage to build",
    },
    {
      name: "platform",
      type: "string",
      valueName: "string",
      description: "Set target platform for build",
      hidden: true,
    },
    {
      name: "rm",
      type: "bool",
      description: "Remove intermediate containers after a successful build",
      hidden: true,
    },
    { name: "force-rm", type: "bool", description: "Always remove intermediate containers", hidden: true },
  ],
  async run(ctx, flags, args) {
    const where = args[0] as string;
    const progressFlag = flags.string("progress") ?? "auto";
    if (!["auto", "plain", "tty", "quiet", "rawjson"].includes(progressFlag)) {
      throw new UsageError(`invalid progress mode "${progressFlag}": must be one of auto, plain, tty, quiet`);
    }
    const network = flags.string("network");
    if (network !== undefined && !["default", "none", "host", "bridge"].includes(network)) {
      throw invalidArgument(`network mode "${network}" not supported by buildkit`);
    }
    const opts: {
      -readonly [K in keyof ImageBuildOptions]: ImageBuildOptions[K];
    } = {
      Tags: flags.list("tag"),
      BuildArgs: buildArgs(flags.list("build-arg"), ctx.io.env),
      NoCache: flags.bool("no-cache"),
      ...(flags.bool("explain-cache")
        ? { CacheExplanations: "all" as const }
        : hintsEnabled(ctx.io.env)
          ? {}
          : { CacheExplanations: "none" as const }),
      PullParent: flags.bool("pull"),
      Labels: keyValueFlags(flags.list("label")),
      SuppressOutput: flags.bool("quiet"),
      ...(network && network !== "bridge" ? { NetworkMode: network } : {}),
    };
    const target = flags.string("target");
    if (target) opts.Target = target;
    const file = flags.string("file");
    let source: BuildContextSource;
    if (/^(https?|git):\/\//.test(where) || where.startsWith("git@")) {
      throw invalidArgument(
        `unable to prepare context: remote contexts are not supported: berth builds offline (${where})`,
      );
    }
    if (where === "-") {
      if (file === "-")
        throw invalidArgument("invalid argument: can't use stdin for both build context and dockerfile");
      const data = await readAll(ctx.io.stdin);
      if (looksLikeArchive(data)) {
        source = { kind: "tar", stream: once(data) };
        if (file) opts.Dockerfile = file;
      } else source = { kind: "dockerfile", text: data.toString("utf8") };
    } else {
      const path = resolve(ctx.io.cwd, where);
      const st = await statIfExists(path);
      if (!st) throw notFound(`unable to prepare context: path "${where}" not found`);
      if (st.isDirectory()) {
        source = { kind: "directory", path };
        if (file === "-") opts.DockerfileText = (await readAll(ctx.io.stdin)).toString("utf8");
        else if (file) {
          const abs = resolve(ctx.io.cwd, file);
          const rel = relative(path, abs);
          if (rel && !rel.startsWith("..") && !isAbsolute(rel)) opts.Dockerfile = rel;
          else {
            opts.Dockerfile = file;
            const text = await readTextIfExists(abs);
            if (text === undefined)
              throw notFound(
                `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`,
              );
            opts.DockerfileText = text;
          }
        }
      } else {
        source = { kind: "tar", stream: createReadStream(path) };
        if (file === "-") opts.DockerfileText = (await readAll(ctx.io.stdin)).toString("utf8");
        else if (file) opts.Dockerfile = file;
      }
    }

    const quiet = flags.bool("quiet") || progressFlag === "quiet";
    const err = ctx.io.stderr as Writable;
    const tty = progressFlag === "tty" || (progressFlag === "auto" && err.isTTY === true);
    const progress = quiet ? undefined : tty ? new TtyProgress(err) : new PlainProgress(err);
    const engine = await ctx.engine();
    let imageId: string | undefined;
    try {
      for await (const e of engine.imageBuild(source, opts)) {
        progress?.event(e);
        if (e.kind === "result") imageId = e.imageId;
      }
      progress?.end();
    } catch (e) {
      progress?.end();
      if (!isBerthError(e) || e.kind === "Internal") throw e;
      const summary = progress?.failure() ?? "";
      ctx.io.stderr.write(`${summary}ERROR: failed to solve: ${errorMessage(e)}\n`);
      return 1;
    }
    if (!imageId) throw invalidArgument("the build produced no image");
    const iidfile = flags.string("iidfile");
    if (iidfile) await writeFileAtomic(resolve(ctx.io.cwd, iidfile), imageId, 0o644);
    if (quiet) ctx.io.stdout.write(`${imageId}\n`);
    return 0;
  },
};

const builderPruneCommand = makePruneCommand({
  path: "builder prune",
  description: "Remove build cache",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Remove all unused build cache, not just dangling ones",
    },
    {
      name: "keep-storage",
      type: "string",
      valueName: "bytes",
      description: "Amount of disk space to keep for cache",
      hidden: true,
    },
  ],
  filterExample: "until=24h",
  filters: (_ctx, _filters, flags) => {
    if (flags.string("keep-storage") !== undefined)
      throw invalidArgument("--keep-storage is not supported: berth's build cache has no size target");
    return undefined;
  },
  question: (flags) =>
    flags.bool("all")
      ? "WARNING! This will remove all build cache. Are you sure you want to continue?"
      : "WARNING! This will remove all dangling build cache. Are you sure you want to continue?",
  declineEndsLine: true,
  prune: async (ctx, engine, filters, flags) => {
    const report = await engine.buildPrune({ All: flags.bool("all"), Filters: filters });
    writeDeleted(ctx, "build cache objects", report.CachesDeleted);
    writeReclaimed(ctx, report.SpaceReclaimed);
  },
});

export const buildCommands: readonly Command[] = [buildCommand, builderPruneCommand];
