/**
 * Packing a directory — normally a container's overlayfs upper dir — as a layer tar, the
 * inverse of `applyLayer`. The output is deterministic: entries in byte order of their names
 * (whiteouts of a directory before its other children), numeric uid/gid without names, mtimes
 * in whole seconds, hardlinks (same device and inode) as tar hardlink entries, xattrs as PAX
 * `SCHILY.xattr.*` records with their exact bytes. Overlayfs markers are converted back to OCI
 * form: a character device 0/0 becomes an empty `.wh.NAME` file, a directory with
 * `trusted.overlay.opaque=y` gets a `.wh..wh..opq` entry; other `trusted.overlay.*` and
 * `user.overlay.*` attributes (origin, impure, …) are overlayfs bookkeeping and are left out.
 * Sockets are skipped, as Docker does. The root directory itself gets no entry.
 */
import type { BigIntStats } from "node:fs";
import { constants as fsConstants } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import * as tarStream from "tar-stream";
import { drainedOrClosed } from "../base/async.js";
import { invalidArgument } from "../base/errors.js";
import { type Digest, digester } from "../oci/digest.js";
import { readXattrsTree } from "./host-tools.js";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "./tar-path.js";

/** Options for `createLayer`. */
export interface CreateLayerOptions {
  signal?: AbortSignal;
}

/** A layer being packed, and its diffID and size once the stream has been read to the end. */
export interface CreatedLayer {
  stream: Readable;
  result: Promise<{ diffId: Digest; size: number }>;
}

const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";
const MAX_USTAR_ID = 0o777777;
const CHUNK = 128 * 1024;

/**
 * Packs `dir` as an uncompressed layer tar. The stream errors if reading the directory fails
 * or `signal` aborts.
 */
export function createLayer(dir: string, opts: CreateLayerOptions = {}): Readable {
  const pack = tarStream.pack();
  const root = resolve(dir);
  const out = Readable.from(pack, { objectMode: false });
  const onAbort = (): void => {
    pack.destroy(
      opts.signal?.reason instanceof Error ? opts.signal.reason : new Error("layer packing aborted"),
    );
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  fill(pack, root, opts.signal)
    .then(() => pack.finalize())
    .catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))))
    .finally(() => opts.signal?.removeEventListener("abort", onAbort));
  return out;
}

/**
 * Like `createLayer`, and computes the diffID (sha256 of the tar) and size as the stream is
 * read. `result` settles once the stream has been consumed to its end (or failed).
 */
export function createLayerWithDigest(dir: string, opts: CreateLayerOptions = {}): CreatedLayer {
  const source = createLayer(dir, opts);
  const hash = digester();
  let size = 0;
  let settle:
    | { resolve: (v: { diffId: Digest; size: number }) => void; reject: (e: unknown) => void }
    | undefined;
  const result = new Promise<{ diffId: Digest; size: number }>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => {
    // the caller sees the error on the stream; this only marks the promise as handled
  });
  const tap = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      size += chunk.length;
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      settle?.resolve({ diffId: hash.digest(), size });
      callback();
    },
  });
  source.on("error", (err) => {
    settle?.reject(err);
    tap.destroy(err);
  });
  tap.on("error", (err) => settle?.reject(err));
  source.pipe(tap);
  return { stream: tap, result };
}

type Pack = ReturnType<typeof tarStream.pack>;
type Sink = ReturnType<Pack["entry"]>;

async function fill(pack: Pack, root: string, signal: AbortSignal | undefined): Promise<void> {
  const rootStat = await lstat(root, { bigint: true });
  if (!rootStat.isDirectory()) throw invalidArgument(`layer source is not a directory: ${root}`);
  const xattrs = await readXattrsTree(root, signal ? { signal } : {});
  const state: PackState = { pack, root, xattrs, links: new Map(), signal };
  if (isOpaque(xattrs.get(root)))
    await addEntry(pack, {
      name: OPAQUE_MARKER,
      type: "file",
      mode: 0o100600,
      mtime: Number(rootStat.mtimeMs),
    });
  await walk(state, root, "");
}

interface PackState {
  pack: Pack;
  root: string;
  xattrs: Map<string, Map<string, Buffer>>;
  /** "dev:ino" → name of the first entry for a hardlinked inode. */
  links: Map<string, string>;
  signal: AbortSignal | undefined;
}

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

function isOpaque(attrs: Map<string, Buffer> | undefined): boolean {
  return attrs?.get(OVERLAY_OPAQUE_XATTR)?.toString("latin1") === "y";
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

async function walk(state: PackState, abs: string, rel: string): Promise<void> {
  const names = (await readdir(abs)).sort(byteOrder);
  const children: Array<{ name: string; st: BigIntStats }> = [];
  for (const name of names) children.push({ name, st: await lstat(join(abs, name), { bigint: true }) });
  const ordered = [...children.filter((c) => isWhiteout(c.st)), ...children.filter((c) => !isWhiteout(c.st))];
  for (const { name, st } of ordered) {
    state.signal?.throwIfAborted();
    const path = join(abs, name);
    const entryName = rel === "" ? name : `${rel}/${name}`;
    const base = headerBase(st);
    if (isWhiteout(st)) {
      const wh = rel === "" ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`;
      await addEntry(state.pack, { ...base, name: wh, type: "file", mode: 0o100600 });
      continue;
    }
    const attrs = packXattrs(state.xattrs.get(path));
    if (st.isDirectory()) {
      await addEntry(state.pack, { ...base, name: `${entryName}/`, type: "directory" }, attrs);
      if (isOpaque(state.xattrs.get(path))) {
        await addEntry(state.pack, {
          ...base,
          name: `${entryName}/${OPAQUE_MARKER}`,
          type: "file",
          mode: 0o100600,
        });
      }
      await walk(state, path, entryName);
      continue;
    }
    if (st.isSocket()) continue;
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = state.links.get(key);
      if (first !== undefined) {
        await addEntry(state.pack, { ...base, name: entryName, type: "link", linkname: first });
        continue;
      }
      state.links.set(key, entryName);
    }
    if (st.isFile()) {
      await addFile(state, path, { ...base, name: entryName, type: "file", size: Number(st.size) }, attrs);
    } else if (st.isSymbolicLink()) {
      await addEntry(
        state.pack,
        { ...base, name: entryName, type: "symlink", linkname: await readlink(path) },
        attrs,
      );
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const type = st.isCharacterDevice() ? "character-device" : "block-device";
      const { major, minor } = splitDev(st.rdev);
      await addEntry(state.pack, { ...base, name: entryName, type, devmajor: major, devminor: minor }, attrs);
    } else if (st.isFIFO()) {
      await addEntry(state.pack, { ...base, name: entryName, type: "fifo" }, attrs);
    }
  }
}

interface EntryHeader {
  name: string;
  type: "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";
  /** Includes the file-type bits, so that tar-stream never mistakes permission 0 for "unset". */
  mode: number;
  /** Milliseconds; written as whole seconds. */
  mtime: number;
  uid?: number;
  gid?: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

function headerBase(st: BigIntStats): { mode: number; uid: number; gid: number; mtime: number } {
  return { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), mtime: Number(st.mtimeMs) };
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor). */
function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

function packXattrs(attrs: Map<string, Buffer> | undefined): Array<[string, Buffer]> {
  if (attrs === undefined) return [];
  return [...attrs]
    .filter(([name]) => !name.startsWith("trusted.overlay.") && !name.startsWith("user.overlay."))
    .sort(([a], [b]) => byteOrder(a, b));
}

/**
 * Writes one entry's header (the caller streams a file's body into the returned sink). Xattrs
 * and ids too large for ustar go into PAX records. tar-stream's PAX codec carries UTF-8 strings
 * only, so an xattr value that is not valid UTF-8 cannot be represented and is left out (the
 * extractor has the same limit).
 */
function startEntry(
  pack: Pack,
  h: EntryHeader,
  xattrs: Array<[string, Buffer]> = [],
): { sink: Sink; done: Promise<void> } {
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  const pax: Record<string, string> = {};
  for (const [name, value] of xattrs) {
    const text = value.toString("utf8");
    if (Buffer.from(text, "utf8").equals(value) && !name.includes("=") && !name.includes("\n")) {
      pax[`SCHILY.xattr.${name}`] = text;
    }
  }
  if (uid > MAX_USTAR_ID) pax["uid"] = String(uid);
  if (gid > MAX_USTAR_ID) pax["gid"] = String(gid);
  const header: tarStream.Header = {
    name: h.name,
    type: h.type,
    mode: h.mode,
    mtime: new Date(Math.floor(h.mtime / 1000) * 1000),
    uid: uid > MAX_USTAR_ID ? 0 : uid,
    gid: gid > MAX_USTAR_ID ? 0 : gid,
    size: h.size ?? 0,
    linkname: h.linkname ?? "",
    uname: "",
    gname: "",
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
    ...(Object.keys(pax).length > 0 ? { pax } : {}),
  };
  let sink: Sink | undefined;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  return { sink: sink!, done };
}

async function addEntry(pack: Pack, h: EntryHeader, xattrs: Array<[string, Buffer]> = []): Promise<void> {
  const { sink, done } = startEntry(pack, h, xattrs);
  if (h.type === "file") sink.end(undefined); // an empty file: no body to stream
  await done;
}

async function addFile(
  state: PackState,
  path: string,
  h: EntryHeader,
  xattrs: Array<[string, Buffer]>,
): Promise<void> {
  const fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    const { sink, done } = startEntry(state.pack, h, xattrs);
    let remaining = h.size ?? 0;
    let failed: unknown;
    sink.on("error", (err: unknown) => {
      failed = err;
    });
    while (remaining > 0) {
      state.signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, remaining));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) throw invalidArgument(`file shrank while packing the layer: ${path}`);
      remaining -= bytesRead;
      if (!sink.write(buf.subarray(0, bytesRead))) await drainedOrClosed(sink);
      if (failed !== undefined) throw failed;
    }
    sink.end(undefined); // streamx typings require an argument
    await done;
  } finally {
    await fh.close();
  }
}
