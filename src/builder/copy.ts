/**
 * COPY and ADD: which files a step copies, their checksum for the cache, and writing them into
 * the step's root filesystem.
 *
 * Semantics as Docker's: sources are paths or globs (`package*.json`) in the context (or in a
 * --from stage or image); a directory source copies its contents; the destination is a
 * directory when it ends in "/", when there are several sources, or when it already is one in
 * the image; missing parents are created; context files are owned by 0:0 unless --chown
 * (names resolved from the image's /etc/passwd and /etc/group; a user without a group uses the
 * uid as gid, as Docker documents), --from files keep their owner; --chmod applies to every
 * copied file and directory. ADD extracts local tar archives (plain, gzip, bzip2, xz, zstd);
 * an http(s) URL is downloaded (builder/download.ts) and copied as one file, never extracted,
 * mode 0600 unless --chmod, named after the URL's path or the destination; git URLs are refused.
 *
 * Safety (security-anchors §2.4): a source that climbs out of the context (`../x`) is refused;
 * absolute sources are context-relative; a source path is resolved inside its root the way a
 * chroot would (symlinks followed only inside it); symlinks inside copied directories are
 * copied as symlinks, never followed; .dockerignore'd files are invisible. Writes go through
 * diff/applyLayer into the destination directory resolved inside the step's rootfs (it refuses
 * symlinks in parent positions and never follows the last component), so an image symlink
 * cannot redirect a COPY to the host. Archives are extracted by the same contained extractor.
 *
 * The checksum covers names, types, modes, owners, link targets and contents (not mtimes, as
 * BuildKit's content checksum), so touching a file does not invalidate the cache; editing it does.
 */

import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { constants as fsConstants } from "node:fs";
import { lstat, mkdir, open, readdir, readlink, rm } from "node:fs/promises";
import { isAbsolute, posix, relative } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import * as tarStream from "tar-stream";
import { internal, invalidArgument, notFound } from "../base/errors.js";
import { debug } from "../base/log.js";
import { applyLayer } from "../diff/apply.js";
import { detectCompression, MAGIC_LENGTH } from "../diff/compression.js";
import { zstdDecompressStream } from "../images/transfer.js";
import { resolveUser } from "../runtime/spec/user.js";
import { launchProgram } from "../sys/exec.js";
import { lstatIfExists } from "../sys/fs.js";
import { readFileInRoot, resolveInRoot } from "../sys/root-path.js";

import type { IgnoreMatcher } from "./dockerfile/dockerignore.js";
import { type Downloaded, download, isGitUrl } from "./download.js";
import type { CopyStep } from "./instructions/dispatch.js";

/** Where a COPY's sources come from. */
export interface SourceRoot {
  readonly dir: string;
  /** The build context: `..` is refused and .dockerignore applies. */
  readonly context: boolean;
  readonly ignore?: IgnoreMatcher;
}

interface Entry {
  /** Host path of the file to read (never followed if it is a symlink). */
  readonly host: string;
  /** Path relative to the destination directory ("a/b"). */
  readonly name: string;
  readonly st: Stats;
}

export interface CopyPlan {
  /** The image path of the directory entries are written under. */
  readonly destDir: string;
  readonly entries: readonly Entry[];
  /** ADD: local archives extracted into destDir. */
  readonly archives: readonly string[];
  readonly inline: ReadonlyArray<{ readonly name: string; readonly content: string }>;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly chmod: number | undefined;
  /** Downloaded files the caller removes once the step is done. */
  readonly temporary: readonly string[];
}

/** Where and how ADD downloads URLs. */
export interface CopyPlanOptions {
  /** A directory for downloads (removed by the caller through `CopyPlan.temporary`). */
  readonly downloadDir?: string;
  readonly signal?: AbortSignal;
  readonly progress?: (line: string) => void;
}

const GLOB = /[*?[]/;

/** Go filepath.Match for one path segment. */
function segmentRegExp(seg: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 1);
      if (end < 0) throw invalidArgument(`syntax error in pattern: ${seg}`);
      let body = seg.slice(i + 1, end);
      if (body.startsWith("^")) body = `!${body.slice(1)}`;
      re += `[${body.startsWith("!") ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else if (c === "\\" && i + 1 < seg.length) re += `\\${seg[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function ignored(root: SourceRoot, imagePath: string): boolean {
  if (!root.context || !root.ignore) return false;
  const rel = imagePath.replace(/^\/+/, "");
  return rel !== "" && root.ignore.ignores(rel);
}

/** Expands one source (path or glob, "/"-rooted) to the image paths it names. */
async function expand(root: SourceRoot, path: string): Promise<string[]> {
  const segs = path.split("/").filter(Boolean);
  let current = ["/"];
  for (const seg of segs) {
    const next: string[] = [];
    for (const base of current) {
      if (!GLOB.test(seg)) {
        next.push(posix.join(base, seg));
        continue;
      }
      const re = segmentRegExp(seg);
      const host = await resolveInRoot(root.dir, base);
      // A base that is missing or not a directory matches nothing.
      const names = (await lstatIfExists(host))?.isDirectory() ? await readdir(host) : [];
      for (const n of names.sort()) if (re.test(n)) next.push(posix.join(base, n));
    }
    current = next;
  }
  return current;
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s);
}

async function walk(
  root: SourceRoot,
  hostDir: string,
  imageDir: string,
  prefix: string,
  excludes: readonly RegExp[],
  out: Entry[],
): Promise<void> {
  const names = (await readdir(hostDir)).sort();
  for (const n of names) {
    const imagePath = posix.join(imageDir, n);
    if (ignored(root, imagePath)) {
      // A directory can still hold re-included files (`!dir/keep`).
      const st = await lstat(posix.join(hostDir, n));
      if (!(st.isDirectory() && root.ignore?.mayIncludeUnder(imagePath.replace(/^\/+/, "")))) continue;
    }
    const name = prefix ? `${prefix}/${n}` : n;
    if (excludes.some((re) => re.test(name))) continue;
    const host = posix.join(hostDir, n);
    const st = await lstat(host);
    if (st.isSocket()) continue;
    if (!(ignored(root, imagePath) && st.isDirectory())) out.push({ host, name, st });
    if (st.isDirectory()) await walk(root, host, imagePath, name, excludes, out);
  }
}

function isDirIn(st: Stats | undefined): boolean {
  return st?.isDirectory() ?? false;
}

/** Resolves `--chown` as Docker does (names from the image's passwd/group files). */
async function chownIds(spec: string, rootfs: string): Promise<{ uid: number; gid: number }> {
  const [user = "", group] = spec.split(":");
  const [passwd, groupFile] = await Promise.all([
    readFileInRoot(rootfs, "/etc/passwd"),
    readFileInRoot(rootfs, "/etc/group"),
  ]);
  const files = {
    ...(passwd !== undefined ? { passwd } : {}),
    ...(groupFile !== undefined ? { group: groupFile } : {}),
  };
  const u = resolveUser(user, files);
  if (group === undefined || group === "") return { uid: u.uid, gid: /^\d+$/.test(user) ? u.uid : u.gid };
  const g = resolveUser(`${user}:${group}`, files);
  return { uid: u.uid, gid: g.gid };
}

/**
 * A local file as the tar stream ADD extracts, or undefined when it is not a tar archive (then
 * ADD copies it as a file, as Docker does). Plain, gzip and zstd are decompressed in process;
 * bzip2 and xz through the host's `bzip2 -dc`/`xz -dc` (Debian bzip2, xz-utils). The archive is
 * recognised by the tar magic in the first decompressed header.
 */
async function openArchive(host: string, signal?: AbortSignal): Promise<Readable | undefined> {
  const head = await readHead(host, MAGIC_LENGTH);
  const kind = detectCompression(head);
  const open_ = async (): Promise<Readable> => {
    const fh = await open(host, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    const raw = fh.createReadStream();
    if (kind === "none") return raw;
    let out: Readable;
    if (kind === "gzip" || kind === "zstd") {
      out = raw.pipe(kind === "gzip" ? createGunzip() : zstdDecompressStream());
    } else {
      const tool = kind === "xz" ? "xz" : "bzip2";
      const { child, failed } = launchProgram(tool, ["-dc"], {
        stdio: ["pipe", "pipe", "ignore"],
        pkg: kind === "xz" ? "xz-utils" : "bzip2",
        ...(signal ? { signal } : {}),
      });
      const stdin = child.stdin;
      const stdout = child.stdout;
      if (!stdin || !stdout) throw internal(`${tool} was started without pipes`);
      failed.catch((err: unknown) => stdout.destroy(err instanceof Error ? err : internal(String(err))));
      // A decompressor that stops reading (a corrupt archive) fails through its output instead.
      stdin.on("error", (err) => debug(`${tool} -dc input: ${err.message}`));
      raw.pipe(stdin);
      out = stdout;
      out.on("close", () => child.kill());
    }
    raw.on("error", (err) => out.destroy(err));
    // Whoever stops reading the decompressed stream also closes the file.
    out.on("close", () => raw.destroy());
    return out;
  };
  const probe = await open_();
  try {
    let got = Buffer.alloc(0);
    for await (const chunk of probe) {
      got = Buffer.concat([got, chunk as Buffer]);
      if (got.length >= 262) break;
    }
    if (got.length < 262 || got.subarray(257, 262).toString("latin1") !== "ustar") return undefined;
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
  return open_();
}

async function readHead(host: string, n: number): Promise<Buffer> {
  const fh = await open(host, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Works out what a COPY/ADD copies (nothing is written). `rootfs` is the step's mounted root. */
export async function planCopy(
  step: CopyStep,
  root: SourceRoot,
  rootfs: string,
  opts: CopyPlanOptions = {},
): Promise<CopyPlan> {
  const urls = step.sources.filter((s) => isUrl(s));
  if (urls.length > 0 && !step.add) throw invalidArgument(`source can't be a URL for COPY`);
  for (const u of urls) {
    if (isGitUrl(u)) {
      throw invalidArgument(
        `ADD ${u}: git repositories are not supported: clone it into the build context and COPY it`,
      );
    }
  }
  if (step.checksum !== undefined && (urls.length === 0 || urls.length !== step.sources.length)) {
    throw invalidArgument("checksum can't be specified for non-HTTP(S) sources");
  }
  const downloads: Downloaded[] = [];
  const temporary: string[] = [];
  try {
    for (const u of urls) {
      if (opts.downloadDir === undefined) throw invalidArgument(`ADD ${u}: downloads are not available here`);
      const d = await download(u, {
        dir: opts.downloadDir,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.progress ? { progress: opts.progress } : {}),
        ...(step.checksum !== undefined ? { expected: step.checksum } : {}),
      });
      downloads.push(d);
      temporary.push(d.path);
    }
  } catch (err) {
    await Promise.all(temporary.map((t) => rm(t, { force: true })));
    throw err;
  }
  try {
    return await planSources(step, root, rootfs, downloads, temporary);
  } catch (err) {
    await Promise.all(temporary.map((t) => rm(t, { force: true })));
    throw err;
  }
}

async function planSources(
  step: CopyStep,
  root: SourceRoot,
  rootfs: string,
  downloads: readonly Downloaded[],
  temporary: readonly string[],
): Promise<CopyPlan> {
  const matches: string[] = [];
  for (const s of step.sources) {
    if (isUrl(s)) continue;
    const clean = posix.normalize(s);
    if (root.context && !s.startsWith("/") && (clean === ".." || clean.startsWith("../"))) {
      throw invalidArgument(`forbidden path outside the build context: ${s}`);
    }
    const path = posix.normalize(`/${s}`);
    const found = GLOB.test(path) ? await expand(root, path) : [path];
    const visible: string[] = [];
    for (const p of found) {
      if (ignored(root, p)) continue;
      const host = await resolveInRoot(root.dir, p);
      if (!(await lstatIfExists(host))) continue;
      visible.push(p);
    }
    if (visible.length === 0) {
      throw notFound(
        `failed to compute cache key: failed to calculate checksum of ref: "${path}": not found`,
      );
    }
    matches.push(...visible);
  }
  const many = matches.length + downloads.length + step.inline.length > 1;
  const destPath = step.dest.endsWith("/") ? step.dest.replace(/\/+$/, "") || "/" : step.dest;
  const destSt = await lstatIfExists(await resolveInRoot(rootfs, destPath));
  const resolved: Array<{ path: string; host: string; st: Stats }> = [];
  for (const p of matches) {
    const host = await resolveInRoot(root.dir, p);
    resolved.push({ path: p, host, st: await lstat(host) });
  }
  const intoDir =
    step.dest.endsWith("/") ||
    many ||
    isDirIn(destSt) ||
    (resolved.length === 1 && resolved[0]?.st.isDirectory());
  const destDir = intoDir ? destPath : posix.dirname(destPath);
  const excludes = step.excludes.map((e) => segmentRegExp(e));
  const entries: Entry[] = [];
  const archives: string[] = [];
  for (const r of resolved) {
    if (r.st.isDirectory()) {
      await walk(root, r.host, r.path, "", excludes, entries);
      continue;
    }
    if (step.add && r.st.isFile()) {
      const tarStream = await openArchive(r.host);
      if (tarStream) {
        tarStream.destroy();
        archives.push(r.host);
        continue;
      }
    }
    entries.push({
      host: r.host,
      name: intoDir ? posix.basename(r.path) : posix.basename(destPath),
      st: r.st,
    });
  }
  for (const d of downloads) {
    // Not extracted, whatever it holds (Docker: "Resources from remote URLs are not decompressed").
    entries.push({
      host: d.path,
      name: intoDir ? d.name : posix.basename(destPath),
      st: await lstat(d.path),
    });
  }
  for (const e of entries) {
    if (e.name.split("/").some((part) => part.startsWith(".wh."))) {
      throw invalidArgument(`refusing to copy a whiteout name: ${e.name}`);
    }
  }
  const ids = step.chown ? await chownIds(step.chown, rootfs) : undefined;
  return {
    destDir,
    entries,
    archives,
    inline: step.inline.map((i) => ({
      name: intoDir ? i.name : posix.basename(destPath),
      content: i.content,
    })),
    uid: ids?.uid ?? (root.context ? 0 : undefined),
    gid: ids?.gid ?? (root.context ? 0 : undefined),
    chmod: step.chmod,
    temporary,
  };
}

function modeOf(plan: CopyPlan, st: Stats): number {
  if (plan.chmod !== undefined && !st.isSymbolicLink()) return (st.mode & ~0o7777) | plan.chmod;
  return st.mode;
}

async function hashFile(host: string): Promise<string> {
  const h = createHash("sha256");
  const fh = await open(host, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) h.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return h.digest("hex");
}

/** What a plan copies, checksummed: the whole, and each source by its path. */
export interface CopyChecksum {
  /** Content and metadata of everything copied (mtimes left out): part of the step's cache key. */
  readonly digest: string;
  /**
   * Each copied entry's own checksum by its path relative to `sourceDir` (a downloaded file or an
   * archive outside it by its name, a heredoc as `<<NAME`): what a cache-miss explanation names.
   */
  readonly files: Readonly<Record<string, string>>;
}

/** The content-and-metadata checksum of what a plan copies (mtimes left out). */
export async function checksumCopy(plan: CopyPlan, sourceDir: string): Promise<CopyChecksum> {
  const h = createHash("sha256");
  const files: Record<string, string> = {};
  const pathOf = (host: string, name: string): string => {
    const rel = relative(sourceDir, host);
    return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? name : rel;
  };
  const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
  h.update(`dest ${plan.destDir}\n`);
  for (const e of plan.entries) {
    const type = e.st.isDirectory() ? "d" : e.st.isSymbolicLink() ? "l" : e.st.isFile() ? "f" : "o";
    const uid = plan.uid ?? e.st.uid;
    const gid = plan.gid ?? e.st.gid;
    let body = "";
    if (e.st.isFile()) body = await hashFile(e.host);
    else if (e.st.isSymbolicLink()) body = await readlink(e.host);
    const line = `${e.name}\0${type}\0${modeOf(plan, e.st).toString(8)}\0${uid}:${gid}\0${body}\n`;
    h.update(line);
    files[pathOf(e.host, e.name)] = sha(line);
  }
  for (const a of plan.archives) {
    const digest = await hashFile(a);
    h.update(`archive ${digest}\n`);
    files[pathOf(a, posix.basename(a))] = digest;
  }
  for (const i of plan.inline) {
    const line = `inline ${i.name}\0${i.content}\n`;
    h.update(line);
    files[`<<${i.name}`] = sha(line);
  }
  return { digest: h.digest("hex"), files };
}

type Pack = ReturnType<typeof tarStream.pack>;

interface EntryHeader {
  name: string;
  type: "file" | "directory" | "symlink" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size?: number;
  linkname?: string;
}

function addEntry(pack: Pack, h: EntryHeader, body?: Readable): Promise<void> {
  const header: tarStream.Header = {
    ...h,
    size: h.size ?? 0,
    linkname: h.linkname ?? "",
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
  };
  return new Promise((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    if (body) {
      body.on("error", (err) => {
        sink.destroy(err);
        reject(err);
      });
      body.pipe(sink);
    } else if (header.type === "file") sink.end(undefined);
  });
}

function packPlan(plan: CopyPlan): Readable {
  const pack = tarStream.pack();
  const run = async (): Promise<void> => {
    for (const e of plan.entries) {
      const base = {
        name: e.name,
        mode: modeOf(plan, e.st),
        uid: plan.uid ?? e.st.uid,
        gid: plan.gid ?? e.st.gid,
        mtime: e.st.mtime,
      };
      if (e.st.isDirectory()) await addEntry(pack, { ...base, name: `${e.name}/`, type: "directory" });
      else if (e.st.isSymbolicLink())
        await addEntry(pack, { ...base, type: "symlink", linkname: await readlink(e.host) });
      else if (e.st.isFile()) {
        const fh = await open(e.host, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
        try {
          const st = await fh.stat();
          await addEntry(
            pack,
            { ...base, type: "file", size: st.size },
            fh.createReadStream({ autoClose: false }),
          );
        } finally {
          await fh.close();
        }
      } else if (e.st.isFIFO()) await addEntry(pack, { ...base, type: "fifo" });
    }
    for (const i of plan.inline) {
      const data = Buffer.from(i.content, "utf8");
      await addEntry(
        pack,
        {
          name: i.name,
          type: "file",
          mode: 0o100000 | (plan.chmod ?? 0o644),
          uid: plan.uid ?? 0,
          gid: plan.gid ?? 0,
          size: data.length,
          mtime: new Date(0),
        },
        Readable.from([data]),
      );
    }
  };
  run()
    .then(() => pack.finalize())
    .catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return Readable.from(pack, { objectMode: false });
}

/** Writes a plan into the step's rootfs (mounted at `rootfs`). */
export async function applyCopy(plan: CopyPlan, rootfs: string, signal?: AbortSignal): Promise<void> {
  const hostDir = await resolveInRoot(rootfs, plan.destDir);
  const st = await lstatIfExists(hostDir);
  if (st && !st.isDirectory()) {
    throw invalidArgument(`cannot copy to non-directory: ${plan.destDir}`);
  }
  if (!st) await mkdir(hostDir, { recursive: true, mode: 0o755 });
  const o = signal ? { signal } : {};
  if (plan.entries.length > 0 || plan.inline.length > 0) await applyLayer(packPlan(plan), hostDir, o);
  for (const a of plan.archives) {
    const stream = await openArchive(a, signal);
    if (!stream) throw invalidArgument(`ADD: ${posix.basename(a)} is no longer a tar archive`);
    await applyLayer(stream, hostDir, o);
  }
}
