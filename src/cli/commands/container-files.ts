/**
 * Container filesystem commands: diff, commit, export, cp. `cp` does what Docker's CLI does on
 * the client side: it packs a local source as a tar rooted at the name the destination needs and
 * PUTs it into a directory of the container, or GETs a container path as a tar and extracts it
 * locally. Local extraction is contained: names are normalised, ".." and symlinks in parent
 * positions are refused, existing files are replaced, never written through.
 */
import { constants as fsConstants } from "node:fs";
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import { errnoCode, invalidArgument, isBerthError } from "../../base/errors.js";
import { bestEffort } from "../../base/log.js";
import type { ContainerPathStat } from "../../engine/types.js";
import { readTar } from "../../oci/tar-reader.js";
import { lstatIfExists, statIfExists } from "../../sys/fs.js";
import { type Command, exactly } from "../command.js";
import { validateOutputPath, writeOutputFile } from "../io-helpers.js";

const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
const isDirStat = (s: ContainerPathStat) => hasBit(s.mode, GO_MODE_DIR);
const isLinkStat = (s: ContainerPathStat) => hasBit(s.mode, GO_MODE_SYMLINK);

const KIND_LETTER = ["C", "A", "D"] as const;

const diffCommand: Command = {
  path: "container diff",
  aliases: ["diff"],
  usage: "CONTAINER",
  description: "Inspect changes to files or directories on a container's filesystem",
  args: exactly(1),
  flags: [],
  async run(ctx, _flags, args) {
    const changes = await (await ctx.engine()).containerChanges(args[0] as string);
    for (const c of changes) ctx.io.stdout.write(`${KIND_LETTER[c.Kind]} ${c.Path}\n`);
    return 0;
  },
};

const commitCommand: Command = {
  path: "container commit",
  aliases: ["commit"],
  usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
  description: "Create a new image from a container's changes",
  args: { min: 1, max: 2 },
  flags: [
    {
      name: "author",
      short: "a",
      type: "string",
      valueName: "string",
      description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")',
    },
    {
      name: "change",
      short: "c",
      type: "list",
      valueName: "list",
      description: "Apply Dockerfile instruction to the created image",
    },
    { name: "message", short: "m", type: "string", valueName: "string", description: "Commit message" },
    {
      name: "pause",
      short: "p",
      type: "bool",
      description: "Pause container during commit",
      defaultText: "true",
    },
  ],
  async run(ctx, flags, args) {
    const engine = await ctx.engine();
    const author = flags.string("author");
    const message = flags.string("message");
    const res = await engine.containerCommit(args[0] as string, {
      ...(args[1] ? { reference: args[1] } : {}),
      ...(author !== undefined ? { author } : {}),
      ...(message !== undefined ? { comment: message } : {}),
      changes: flags.list("change"),
      pause: flags.bool("pause", true),
    });
    ctx.io.stdout.write(`${res.Id}\n`);
    return 0;
  },
};

const exportCommand: Command = {
  path: "container export",
  aliases: ["export"],
  usage: "[OPTIONS] CONTAINER",
  description: "Export a container's filesystem as a tar archive",
  args: exactly(1),
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      valueName: "string",
      description: "Write to a file, instead of STDOUT",
    },
  ],
  async run(ctx, flags, args) {
    const output = flags.string("output");
    if (!output && ctx.io.stdout.isTTY) {
      throw invalidArgument("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    if (output) await validateOutputPath(resolve(ctx.io.cwd, output), "failed to export container");
    const stream = await (await ctx.engine()).containerExport(args[0] as string);
    if (output) await writeOutputFile(resolve(ctx.io.cwd, output), stream);
    else await pipeline(stream, ctx.io.stdout, { end: false });
    return 0;
  },
};

/** `CONTAINER:PATH` or a local path, as Docker's CLI splits a cp argument. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith("/") || arg.startsWith(".")) return { path: arg };
  const i = arg.indexOf(":");
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

const cpCommand: Command = {
  path: "container cp",
  aliases: ["cp"],
  usage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
  description: "Copy files/folders between a container and the local filesystem",
  args: exactly(2),
  flags: [
    { name: "archive", short: "a", type: "bool", description: "Archive mode (copy all uid/gid information)" },
    { name: "follow-link", short: "L", type: "bool", description: "Always follow symbol link in SRC_PATH" },
    {
      name: "quiet",
      short: "q",
      type: "bool",
      description:
        "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached",
    },
  ],
  async run(ctx, flags, args) {
    const src = splitCpArg(args[0] as string);
    const dst = splitCpArg(args[1] as string);
    if (src.container !== undefined && dst.container !== undefined)
      throw invalidArgument("copying between containers is not supported");
    if (src.container === undefined && dst.container === undefined)
      throw invalidArgument("must specify at least one container source");
    if ((src.container ?? dst.container) === "") throw invalidArgument("empty container name");
    const engine = await ctx.engine();
    const follow = flags.bool("follow-link");
    if (src.container !== undefined) {
      let srcPath = src.path;
      if (follow) {
        const st = await engine.containerStatPath(src.container, srcPath);
        if (isLinkStat(st) && st.linkTarget) srcPath = st.linkTarget;
      }
      const { stat: st, content } = await engine.containerArchive(src.container, srcPath);
      if (dst.path === "-") {
        await pipeline(content, ctx.io.stdout, { end: false });
        return 0;
      }
      await copyToLocal(Readable.from(content, { objectMode: false }), {
        srcIsDir: isDirStat(st),
        contents: /(^|\/)\.$/.test(srcPath),
        dest: resolve(ctx.io.cwd, dst.path),
        destArg: dst.path,
      });
      return 0;
    }
    const container = dst.container as string;
    let dstPath = dst.path;
    let dstStat = await statOrNone(engine.containerStatPath(container, dstPath));
    if (dstStat && isLinkStat(dstStat) && dstStat.linkTarget) {
      dstPath = dstStat.linkTarget;
      dstStat = await statOrNone(engine.containerStatPath(container, dstPath));
    }
    const putOpts = { noOverwriteDirNonDir: true, copyUIDGID: flags.bool("archive") };
    if (src.path === "-") {
      if (!dstStat || !isDirStat(dstStat))
        throw invalidArgument(`destination "${container}:${dst.path}" must be a directory`);
      await engine.containerExtractArchive(
        container,
        dstPath,
        ctx.io.stdin as unknown as AsyncIterable<Uint8Array>,
        putOpts,
      );
      return 0;
    }
    const local = resolve(ctx.io.cwd, src.path);
    let lst: Awaited<ReturnType<typeof lstat>>;
    try {
      lst = follow ? await stat(local) : await lstat(local);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") throw invalidArgument(`lstat ${local}: no such file or directory`);
      throw err;
    }
    const srcIsDir = lst.isDirectory();
    const contents = /(^|\/)\.$/.test(src.path) && srcIsDir;
    let target: string;
    let rootName: string;
    if (dstStat && isDirStat(dstStat)) {
      target = dstPath;
      rootName = contents ? "." : basename(local);
    } else if (dstStat) {
      if (srcIsDir) throw invalidArgument("cannot copy directory");
      target = parentOf(dstPath);
      rootName = basename(dstPath);
    } else {
      if (!srcIsDir && dstPath.endsWith("/")) throw invalidArgument("no such directory");
      target = parentOf(dstPath);
      rootName = basename(dstPath.replace(/\/+$/, ""));
    }
    const tar = packLocal(local, rootName, follow, contents && rootName !== ".");
    await engine.containerExtractArchive(container, target, tar, putOpts);
    return 0;
  },
};

function parentOf(p: string): string {
  const d = dirname(p.replace(/\/+$/, "") || "/");
  return d === "." ? "/" : d;
}

async function statOrNone(p: Promise<ContainerPathStat>): Promise<ContainerPathStat | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isBerthError(err, "NotFound")) return undefined;
    throw err;
  }
}

/**
 * Packs a local path as a tar whose root entry is `rootName` ("." packs a directory's contents
 * without a root entry). With `follow`, a symlink given as the source is followed; symlinks
 * inside directories are archived as symlinks.
 */
export function packLocal(
  source: string,
  rootName: string,
  follow: boolean,
  contentsUnderRoot = false,
): Readable {
  const tar = pack();
  const add = async (abs: string, name: string, top: boolean): Promise<void> => {
    const st = top && follow ? await stat(abs) : await lstat(abs);
    const base = {
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime,
    };
    if (st.isDirectory()) {
      if (name !== ".") await entry(tar, { ...base, name: `${name}/`, type: "directory" });
      for (const child of (await readdir(abs)).sort()) {
        await add(join(abs, child), name === "." ? child : `${name}/${child}`, false);
      }
    } else if (st.isSymbolicLink()) {
      await entry(tar, { ...base, name, type: "symlink", linkname: await readlink(abs) });
    } else if (st.isFile()) {
      const fh = await open(
        abs,
        top && follow ? fsConstants.O_RDONLY : fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW,
      );
      try {
        const fst = await fh.stat();
        await entry(
          tar,
          { ...base, name, type: "file", size: fst.size },
          fst.size > 0 ? fh.createReadStream({ autoClose: false, end: fst.size - 1 }) : undefined,
        );
      } finally {
        await fh.close();
      }
    } else if (st.isFIFO()) {
      await entry(tar, { ...base, name, type: "fifo" });
    }
  };
  const run = async () => {
    if (contentsUnderRoot) {
      const st = await stat(source);
      await entry(tar, {
        name: `${rootName}/`,
        type: "directory",
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: st.mtime,
      });
      for (const child of (await readdir(source)).sort())
        await add(join(source, child), `${rootName}/${child}`, false);
    } else {
      await add(source, rootName, true);
    }
  };
  run().then(
    () => tar.finalize(),
    (err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return Readable.from(tar, { objectMode: false });
}

type PackHeader = Parameters<ReturnType<typeof pack>["entry"]>[0];

async function entry(tar: ReturnType<typeof pack>, h: PackHeader, body?: Readable): Promise<void> {
  await new Promise<void>((res, rej) => {
    const sink = tar.entry(h, (err) => (err ? rej(err) : res()));
    if (body) body.pipe(sink);
    else sink.end(undefined);
  });
}

/**
 * Extracts a tar received from a container onto the local filesystem by Docker's cp rules: into
 * an existing directory under the source's name; over an existing file; or as a new path named
 * by the destination.
 */
export async function copyToLocal(
  content: Readable,
  o: { srcIsDir: boolean; contents: boolean; dest: string; destArg: string },
): Promise<void> {
  const st = await statIfExists(o.dest);
  let dir: string;
  let rename: string | undefined;
  if (st?.isDirectory()) {
    dir = o.dest;
  } else if (st) {
    if (o.srcIsDir) throw invalidArgument("cannot copy directory");
    dir = dirname(o.dest);
    rename = basename(o.dest);
  } else {
    if (!o.srcIsDir && o.destArg.endsWith("/")) throw invalidArgument("no such directory");
    dir = dirname(o.dest);
    rename = basename(o.dest);
    const parent = await statIfExists(dir);
    if (!parent?.isDirectory()) throw invalidArgument("no such directory");
    if (o.contents) {
      await mkdir(o.dest, { mode: 0o755 });
      dir = o.dest;
      rename = undefined;
    }
  }
  await extractLocal(content, dir, rename);
}

/** Contained extraction into `dir`; `rename` replaces the first component of every name. */
async function extractLocal(content: Readable, dir: string, rename: string | undefined): Promise<void> {
  const dirTimes: Array<{ path: string; mtime: Date }> = [];
  const asRoot = process.getuid?.() === 0;
  for await (const e of readTar(content)) {
    const h = e.header;
    const parts = h.name.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes(".."))
      throw invalidArgument(`refusing archive entry ${h.name}: it leaves the destination`);
    if (rename !== undefined && parts.length > 0) parts[0] = rename;
    if (parts.length === 0) continue;
    let cur = dir;
    for (const p of parts.slice(0, -1)) {
      cur = join(cur, p);
      const pst = await lstatIfExists(cur);
      if (!pst) await mkdir(cur, { mode: 0o755 });
      else if (!pst.isDirectory())
        throw invalidArgument(`refusing archive entry ${h.name}: a parent is not a directory`);
    }
    const path = join(cur, parts[parts.length - 1] as string);
    const existing = await lstatIfExists(path);
    if (existing && !(existing.isDirectory() && h.type === "directory")) {
      if (existing.isDirectory())
        throw invalidArgument(`cannot overwrite directory "${path}" with non-directory`);
      await rm(path, { force: true });
    }
    switch (h.type) {
      case "directory":
        if (!existing) await mkdir(path, { mode: 0o700 });
        await chmod(path, h.mode ?? 0o755);
        dirTimes.push({ path, mtime: h.mtime });
        break;
      case "symlink":
        await symlink(h.linkname, path);
        break;
      case "link": {
        const lp = (h.linkname ?? "").split("/").filter((p) => p !== "" && p !== ".");
        if (lp.includes("..") || lp.length === 0) throw invalidArgument(`refusing hardlink ${h.name}`);
        if (rename !== undefined) lp[0] = rename;
        const target = join(dir, ...lp);
        const tst = await lstat(target);
        if (tst.isDirectory()) throw invalidArgument(`refusing hardlink ${h.name}`);
        await link(target, path);
        break;
      }
      case "file":
      case "contiguous-file": {
        const fh = await open(
          path,
          fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
          0o600,
        );
        try {
          for await (const chunk of e) {
            if (chunk instanceof Uint8Array) await fh.write(chunk);
          }
          await fh.chmod((h.mode ?? 0o644) & 0o7777);
        } finally {
          await fh.close();
        }
        break;
      }
      default:
        continue; // devices and FIFOs are not recreated locally
    }
    // Owner and times are kept where the local filesystem allows; the content is what counts.
    if (asRoot) await bestEffort(`setting the owner of ${path}`, lchown(path, h.uid ?? 0, h.gid ?? 0));
    if (h.type !== "directory" && h.mtime)
      await bestEffort(`setting the times of ${path}`, lutimes(path, h.mtime, h.mtime));
  }
  for (const d of dirTimes.reverse())
    await bestEffort(`setting the times of ${d.path}`, lutimes(d.path, d.mtime, d.mtime));
}

export const containerFileCommands: readonly Command[] = [
  diffCommand,
  commitCommand,
  exportCommand,
  cpCommand,
];
