/**
 * Applying a layer: a possibly gzipped tar changeset is extracted into an EMPTY snapshot
 * directory that overlayfs later stacks as a lowerdir, so OCI whiteouts become overlayfs
 * whiteouts: `.wh.NAME` → character device 0/0 named NAME, `.wh..wh..opq` in D → xattr
 * `trusted.overlay.opaque=y` on D. The diffID (sha256 of the uncompressed tar) is computed
 * while streaming.
 *
 * Containment (security-anchors §2.1, §5 item 8). Names are normalised (leading `/` and `./`
 * dropped, `.`/`..` cleaned lexically); a name that climbs above the root is rejected. Every
 * parent component is checked with lstat inside the target and must be a real directory: a
 * symlink in a parent position is REFUSED, never followed (a tar produced from a filesystem walk
 * never writes through its own symlinks, and refusing closes every symlink-chain escape,
 * including the two-hop CVE-2026-17106 one). The final component is replaced, not followed: an
 * existing non-directory (or a directory replaced by a non-directory) is removed first and files
 * are created with O_CREAT|O_EXCL|O_NOFOLLOW; metadata is set through the new file's descriptor
 * or with lchown/lutimes, and chmod is never applied to a symlink or a hardlink entry. Hardlink
 * targets are resolved the same way and must already exist in this layer as non-directories.
 * `trusted.overlay.*` and `user.overlay.*` xattrs from PAX headers are dropped. Work deferred to
 * the end (whiteouts, xattrs, directory mtimes) re-checks each path and its inode first, so a
 * later entry that replaced a directory by a symlink cannot redirect it.
 *
 * Berth is the only writer of a snapshot being built, so the check-then-use above is not racy
 * against the archive itself. On error the caller removes the target directory.
 */
import type { Stats } from "node:fs";
import { constants as fsConstants } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type BerthError,
  canceled,
  errnoCode,
  invalidArgument,
  isBerthError,
  unavailable,
} from "../base/errors.js";
import { type Digest, digester } from "../oci/digest.js";
import { readTar, type TarEntry, type TarEntryType, type TarHeader } from "../oci/tar-reader.js";
import { decompressStream } from "./compression.js";
import { mknod, setXattrs, type XattrOp } from "./host-tools.js";
import { classifyWhiteout, normalizeEntryName, quote } from "./tar-path.js";

/** Options for `applyLayer`. */
export interface ApplyLayerOptions {
  signal?: AbortSignal;
  /** Most tar entries accepted (default 1,000,000). */
  maxEntries?: number;
  /** Most uncompressed tar bytes accepted (default 256 GiB). */
  maxBytes?: number;
}

/** What `applyLayer` found. */
export interface ApplyLayerResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: Digest;
  /** Uncompressed tar bytes. */
  size: number;
  /** Bytes of regular-file content written. */
  unpackedBytes: number;
}

const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_MAX_BYTES = 256 * 1024 ** 3;
const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";

type EntryType = TarEntryType;

interface EntryMeta {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

interface Deferred {
  parts: string[];
  ino: bigint;
}

/** Hashes and counts the uncompressed tar bytes on their way to the extractor. */
class DigestTap extends Transform {
  readonly hash = digester();
  size = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      callback(invalidArgument(`layer is larger than the limit of ${this.maxBytes} uncompressed bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

/**
 * Extracts a layer (plain or gzip tar; zstd/bzip2/xz rejected) into `target`, which must be an
 * existing empty directory, converting whiteouts to the overlayfs form. Resolves with the
 * diffID and sizes; rejects with InvalidArgument for a malformed, truncated or malicious layer,
 * Canceled when `signal` aborts. Nothing is ever written outside `target`.
 */
export async function applyLayer(
  stream: Readable,
  target: string,
  opts: ApplyLayerOptions = {},
): Promise<ApplyLayerResult> {
  const root = resolve(target);
  const rootStat = await lstat(root, { bigint: true });
  if (!rootStat.isDirectory()) throw invalidArgument(`layer target is not a directory: ${root}`);
  const signal = opts.signal;

  const applier = new Applier(root, rootStat.ino, opts.maxEntries ?? DEFAULT_MAX_ENTRIES, signal);
  let tap: DigestTap | undefined;
  try {
    signal?.throwIfAborted();
    const { stream: plain } = await decompressStream(stream, signal ? { signal } : {});
    tap = new DigestTap(opts.maxBytes ?? DEFAULT_MAX_BYTES);
    const piping = pipeline(plain, tap, signal ? { signal } : {});
    piping.catch(() => {
      // awaited below; this only keeps an early failure from counting as unhandled
    });
    let loopError: unknown;
    try {
      for await (const entry of readTar(tap, signal ? { signal } : {})) {
        await applier.entry(entry);
      }
    } catch (err) {
      loopError = err;
      tap.destroy();
      plain.destroy();
    }
    try {
      await piping;
    } catch (err) {
      if (loopError === undefined) loopError = err;
    }
    if (loopError !== undefined) throw loopError;
    await applier.finish();
  } catch (err) {
    throw classify(err, signal);
  }
  return { diffId: tap.hash.digest(), size: tap.size, unpackedBytes: applier.unpackedBytes };
}

function classify(err: unknown, signal: AbortSignal | undefined): BerthError {
  if (signal?.aborted || (err instanceof Error && err.name === "AbortError")) {
    return isBerthError(err, "Canceled") ? err : canceled("layer extraction canceled", err);
  }
  if (isBerthError(err)) return err;
  const code = errnoCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === "ENOSPC" || code === "EDQUOT") return unavailable(`cannot extract layer: ${message}`, err);
  if (code?.startsWith("Z_") || code === "ERR_ZLIB_INPUT_CLOSED") {
    return invalidArgument(`invalid gzip data in layer: ${message}`, err);
  }
  return invalidArgument(`invalid layer tar: ${message}`, err);
}

/** The state of one extraction. */
class Applier {
  unpackedBytes = 0;
  private entries = 0;
  /** Relative paths ("a/b") checked to be real directories created or verified by this layer. */
  private readonly knownDirs = new Set<string>();
  private readonly whiteouts: Array<{ parent: string[]; name: string; meta: EntryMeta }> = [];
  private readonly xattrs: Array<Deferred & { name: string; value: Buffer }> = [];
  private readonly dirTimes: Array<Deferred & { atime: number; mtime: number }> = [];

  constructor(
    private readonly root: string,
    private readonly rootIno: bigint,
    private readonly maxEntries: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async entry(entry: TarEntry): Promise<void> {
    this.signal?.throwIfAborted();
    this.entries++;
    if (this.entries > this.maxEntries) {
      throw invalidArgument(`layer has more than the limit of ${this.maxEntries} entries`);
    }
    const meta = parseHeader(entry.header);
    try {
      await this.apply(meta, entry);
    } catch (err) {
      if (isBerthError(err) || (err instanceof Error && err.name === "AbortError")) throw err;
      const code = errnoCode(err);
      if (code === "ENOSPC" || code === "EDQUOT") throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw invalidArgument(`invalid tar entry: cannot apply ${quote(meta.name)}: ${message}`, err);
    }
  }

  private async apply(meta: EntryMeta, entry: TarEntry): Promise<void> {
    const parts = normalizeEntryName(meta.name);
    if (parts.length === 0) {
      if (meta.type !== "directory")
        throw invalidArgument(`invalid tar entry: root is not a directory: ${quote(meta.name)}`);
      await this.setDirMeta(this.root, [], meta, this.rootIno);
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);
    const wh = classifyWhiteout(base, meta.name);
    if (wh.kind === "meta") return;
    const parent = await this.parentDir(parentParts, meta.name);
    if (wh.kind === "opaque") {
      const st = await lstat(parent, { bigint: true });
      this.xattrs.push({
        parts: parentParts,
        ino: st.ino,
        name: OVERLAY_OPAQUE_XATTR,
        value: Buffer.from("y"),
      });
      return;
    }
    if (wh.kind === "whiteout") {
      this.whiteouts.push({ parent: parentParts, name: wh.target, meta });
      return;
    }

    const path = join(parent, base);
    const existing = await lstatOrUndefined(path);
    if (existing && !(existing.isDirectory() && meta.type === "directory")) {
      await rm(path, { recursive: true, force: true });
      if (existing.isDirectory()) this.forgetDirs(parts);
    }

    switch (meta.type) {
      case "directory": {
        if (!existing?.isDirectory()) await mkdir(path, { mode: 0o700 });
        const st = await lstat(path, { bigint: true });
        this.knownDirs.add(parts.join("/"));
        await this.setDirMeta(path, parts, meta, st.ino);
        break;
      }
      case "file":
      case "contiguous-file":
        await this.writeFile(path, meta, entry);
        break;
      case "symlink":
        await symlink(meta.linkname, path);
        await lchown(path, meta.uid, meta.gid);
        await lutimes(path, meta.atime, meta.mtime);
        break;
      case "link": {
        const linkParts = normalizeEntryName(meta.linkname);
        if (linkParts.length === 0)
          throw invalidArgument(`invalid tar entry: hardlink to the root: ${quote(meta.name)}`);
        const linkParent = await this.existingDir(linkParts.slice(0, -1));
        const linkPath =
          linkParent === undefined ? undefined : join(linkParent, linkParts[linkParts.length - 1]!);
        const st = linkPath === undefined ? undefined : await lstatOrUndefined(linkPath);
        if (linkPath === undefined || st === undefined) {
          throw invalidArgument(
            `invalid tar entry: hardlink target not found in the layer: ${quote(meta.linkname)}`,
          );
        }
        if (st.isDirectory())
          throw invalidArgument(`invalid tar entry: hardlink to a directory: ${quote(meta.name)}`);
        // link(2) does not follow a symlink target: a link to a symlink is another symlink.
        await link(linkPath, path);
        return; // the target carries the metadata; nothing is chmod'ed through a link
      }
      case "character-device":
      case "block-device":
      case "fifo": {
        const kind = meta.type === "fifo" ? "p" : meta.type === "block-device" ? "b" : "c";
        await mknod(path, kind, { major: meta.devmajor, minor: meta.devminor, ...this.signalOpt() });
        await lchown(path, meta.uid, meta.gid);
        await chmod(path, meta.mode);
        await lutimes(path, meta.atime, meta.mtime);
        break;
      }
    }
    if (meta.xattrs.size > 0) {
      const st = await lstat(path, { bigint: true });
      for (const [name, value] of meta.xattrs) this.xattrs.push({ parts, ino: st.ino, name, value });
    }
  }

  private async writeFile(path: string, meta: EntryMeta, entry: TarEntry): Promise<void> {
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
    const fh = await open(path, flags, 0o600);
    try {
      for await (const chunk of entry) {
        const bytes = chunk;
        let off = 0;
        while (off < bytes.length) {
          const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
          off += bytesWritten;
        }
        this.unpackedBytes += bytes.length;
      }
      await fh.chown(meta.uid, meta.gid);
      await fh.chmod(meta.mode); // after chown, which clears setuid/setgid
      await fh.utimes(meta.atime, meta.mtime);
    } finally {
      await fh.close();
    }
  }

  private async setDirMeta(path: string, parts: string[], meta: EntryMeta, ino: bigint): Promise<void> {
    await lchown(path, meta.uid, meta.gid);
    await chmod(path, meta.mode); // a directory we just lstat'ed or created, never a symlink
    this.dirTimes.push({ parts, ino, atime: meta.atime, mtime: meta.mtime });
  }

  /**
   * Returns the absolute path of the directory `parts` inside the root, creating missing
   * directories (0755, root-owned) and refusing symlinks, non-directories and whiteout names.
   */
  private async parentDir(parts: string[], name: string): Promise<string> {
    let cur = this.root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const next = join(cur, part);
      const rel = parts.slice(0, i + 1).join("/");
      if (this.knownDirs.has(rel)) {
        cur = next;
        continue;
      }
      if (classifyWhiteout(part, name).kind !== "none") {
        throw invalidArgument(`invalid tar entry: whiteout name used as a directory: ${quote(name)}`);
      }
      const st = await lstatOrUndefined(next);
      if (st === undefined) {
        await mkdir(next, { mode: 0o755 });
        await chmod(next, 0o755);
      } else if (st.isSymbolicLink()) {
        throw invalidArgument(`invalid tar entry: path goes through a symlink: ${quote(name)}`);
      } else if (!st.isDirectory()) {
        throw invalidArgument(`invalid tar entry: parent is not a directory: ${quote(name)}`);
      }
      this.knownDirs.add(rel);
      cur = next;
    }
    return cur;
  }

  /** Like `parentDir` without creating anything: undefined unless every component is a real directory. */
  private async existingDir(parts: string[]): Promise<string | undefined> {
    let cur = this.root;
    for (const part of parts) {
      const next = join(cur, part);
      const st = await lstatOrUndefined(next);
      if (st === undefined || !st.isDirectory()) return undefined;
      cur = next;
    }
    return cur;
  }

  /** The absolute path of `parts` if it still is the inode recorded earlier. */
  private async sameInode(d: Deferred): Promise<string | undefined> {
    if (d.parts.length === 0) return this.root;
    const parent = await this.existingDir(d.parts.slice(0, -1));
    if (parent === undefined) return undefined;
    const path = join(parent, d.parts[d.parts.length - 1]!);
    try {
      const st = await lstat(path, { bigint: true });
      return st.ino === d.ino ? path : undefined;
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
  }

  private forgetDirs(parts: string[]): void {
    const prefix = parts.join("/");
    for (const d of this.knownDirs) {
      if (d === prefix || d.startsWith(`${prefix}/`)) this.knownDirs.delete(d);
    }
  }

  private signalOpt(): { signal?: AbortSignal } {
    return this.signal ? { signal: this.signal } : {};
  }

  /** Deferred work: whiteouts, xattrs (one batch), then directory times. */
  async finish(): Promise<void> {
    // Whiteouts apply to lower layers only: a name this layer created itself wins.
    const pending = [...this.whiteouts];
    const worker = async (): Promise<void> => {
      for (let w = pending.shift(); w !== undefined; w = pending.shift()) {
        this.signal?.throwIfAborted();
        const parent = await this.existingDir(w.parent);
        if (parent === undefined) continue;
        const path = join(parent, w.name);
        if ((await lstatOrUndefined(path)) !== undefined) continue;
        await mknod(path, "c", { major: 0, minor: 0, ...this.signalOpt() });
        await lchown(path, w.meta.uid, w.meta.gid);
        await lutimes(path, w.meta.atime, w.meta.mtime);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, pending.length) }, worker));

    // Opaque markers must take effect; xattrs from the tar are best effort, as in Docker (a
    // filesystem or kernel may refuse e.g. security.selinux or user.* on a symlink). setfattr
    // applies the rest of a batch after one failure.
    const opaque: XattrOp[] = [];
    const fromTar: XattrOp[] = [];
    for (const x of this.xattrs) {
      const path = await this.sameInode(x);
      if (path === undefined) continue;
      (x.name === OVERLAY_OPAQUE_XATTR ? opaque : fromTar).push({ path, name: x.name, value: x.value });
    }
    await setXattrs(opaque, this.signalOpt());
    try {
      await setXattrs(fromTar, this.signalOpt());
    } catch (err) {
      if (!isBerthError(err, "InvalidArgument")) throw err;
    }

    for (const d of this.dirTimes) {
      const path = await this.sameInode(d);
      if (path !== undefined) await lutimes(path, d.atime, d.mtime);
    }
  }
}

/** Reads what a tar header says (PAX uid/gid/mtime/atime already applied by the reader). */
function parseHeader(h: TarHeader): EntryMeta {
  const name = h.name;
  const uid = h.uid;
  const gid = h.gid;
  const mtime = h.mtime.getTime() / 1000;
  const atime = h.atime !== undefined ? h.atime.getTime() / 1000 : mtime;
  if (!validId(uid) || !validId(gid)) throw invalidArgument(`invalid tar entry: bad uid/gid: ${quote(name)}`);
  const xattrs = new Map<string, Buffer>();
  for (const [xname, value] of h.xattrs) {
    // Overlay's own attributes would let a layer forge opaqueness, redirects or metacopy.
    if (xname.startsWith("trusted.overlay.") || xname.startsWith("user.overlay.")) continue;
    if (xname.includes("\0")) continue;
    xattrs.set(xname, value);
  }
  return {
    name,
    type: h.type,
    mode: h.mode & 0o7777,
    uid,
    gid,
    mtime,
    atime,
    linkname: h.linkname,
    devmajor: h.devmajor,
    devminor: h.devminor,
    xattrs,
  };
}

function validId(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xfffffffe;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}
