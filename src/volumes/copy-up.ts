/**
 * Docker's volume copy-up: the content an image has at a mount path is copied into a volume the
 * first time that volume is mounted, while it is still empty.
 *
 * The copy is made of what is on disk, never of what a symlink points at: every source entry is
 * read with lstat; a symlink is copied as a symlink; a regular file is opened with O_NOFOLLOW
 * and checked to be the inode lstat saw; nothing outside `sourceDir` is read. Everything is
 * written into a fresh directory of our own beside the volume's `_data` (which no container can
 * see), files created with O_EXCL|O_NOFOLLOW, so nothing is written through a link either.
 * Ownership, permission bits (incl. setuid/setgid/sticky), access and modification times,
 * hardlinks among the copied files, device nodes, FIFOs and extended attributes (one
 * `getfattr`/`setfattr` batch each, `trusted.overlay.*` left out) are kept. Sockets are skipped.
 */
import { constants } from "node:fs";
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  symlink,
  utimes,
} from "node:fs/promises";
import { join } from "node:path";
import { canceled, errnoCode, invalidArgument } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { mknod, readXattrsTree, setXattrs, type XattrOp } from "../diff/host-tools.js";

type BigStats = Awaited<ReturnType<typeof statBig>>;

function statBig(path: string) {
  return lstat(path, { bigint: true });
}

export interface CopyTreeOptions {
  readonly signal?: AbortSignal;
  /** Copy extended attributes too (default true; needs the Debian package `attr`). */
  readonly xattrs?: boolean;
}

interface CopyState {
  readonly signal: AbortSignal | undefined;
  /** "dev:ino" of a source file with several links → the path of its first copy. */
  readonly links: Map<string, string>;
  /** Directories whose owner, mode and times are set after their children. */
  readonly dirs: Array<{ dest: string; st: BigStats }>;
  readonly xattrTargets: Map<string, string>;
}

const seconds = (ns: bigint) => Number(ns) / 1e9;
const permBits = (st: BigStats) => Number(st.mode) & 0o7777;

function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

/**
 * Copies the content of directory `sourceDir` (not the directory itself) into `destDir`, which
 * must exist and be empty and private to the caller. Returns the number of entries copied.
 * Throws invalidArgument when `sourceDir` is not a directory (a symlink is not followed).
 */
export async function copyTree(
  sourceDir: string,
  destDir: string,
  opts: CopyTreeOptions = {},
): Promise<number> {
  const root = await statBig(sourceDir);
  if (!root.isDirectory()) throw invalidArgument(`copy-up: ${sourceDir} is not a directory`);
  const state: CopyState = {
    signal: opts.signal,
    links: new Map(),
    dirs: [],
    xattrTargets: new Map(),
  };
  const count = await copyChildren(sourceDir, destDir, state);
  // Directories last, deepest first, so that creating children changes no copied mtime.
  for (const { dest, st } of state.dirs.reverse()) {
    await chown(dest, Number(st.uid), Number(st.gid));
    await chmod(dest, permBits(st));
    await utimes(dest, seconds(st.atimeNs), seconds(st.mtimeNs));
  }
  if (opts.xattrs ?? true) await copyXattrs(sourceDir, state);
  return count;
}

async function copyChildren(srcDir: string, destDir: string, state: CopyState): Promise<number> {
  let count = 0;
  for (const name of (await readdir(srcDir)).sort()) {
    if (state.signal?.aborted) throw canceled("copy-up canceled");
    const src = join(srcDir, name);
    const dest = join(destDir, name);
    let st: BigStats;
    try {
      st = await statBig(src);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") continue;
      throw err;
    }
    if (await copyEntry(src, dest, st, state)) count++;
  }
  return count;
}

async function copyEntry(src: string, dest: string, st: BigStats, state: CopyState): Promise<boolean> {
  if (st.isDirectory()) {
    await mkdir(dest, { mode: 0o700 });
    state.dirs.push({ dest, st });
    state.xattrTargets.set(src, dest);
    await copyChildren(src, dest, state);
    return true;
  }
  const key = `${st.dev}:${st.ino}`;
  if (st.nlink > 1n) {
    const first = state.links.get(key);
    if (first !== undefined) {
      await link(first, dest);
      return true;
    }
  }
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
    await lchown(dest, Number(st.uid), Number(st.gid));
    await lutimes(dest, seconds(st.atimeNs), seconds(st.mtimeNs));
  } else if (st.isFile()) {
    await copyFile(src, dest, st);
  } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
    const type = st.isFIFO() ? "p" : st.isCharacterDevice() ? "c" : "b";
    await mknod(dest, type, { ...splitDev(st.rdev), ...(state.signal ? { signal: state.signal } : {}) });
    await lchown(dest, Number(st.uid), Number(st.gid));
    await chmod(dest, permBits(st));
    await utimes(dest, seconds(st.atimeNs), seconds(st.mtimeNs));
  } else {
    return false; // sockets
  }
  if (st.nlink > 1n) state.links.set(key, dest);
  state.xattrTargets.set(src, dest);
  return true;
}

async function copyFile(src: string, dest: string, st: BigStats): Promise<void> {
  const input = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const now = await input.stat({ bigint: true });
    if (now.ino !== st.ino || now.dev !== st.dev || !now.isFile()) {
      throw invalidArgument(`copy-up: ${src} changed while it was copied`);
    }
    const output = await open(
      dest,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const { bytesRead } = await input.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        let off = 0;
        while (off < bytesRead) {
          const { bytesWritten } = await output.write(buf, off, bytesRead - off);
          off += bytesWritten;
        }
      }
      // chown clears setuid/setgid, so the mode comes after it.
      await output.chown(Number(st.uid), Number(st.gid));
      await output.chmod(permBits(st));
      await output.utimes(seconds(st.atimeNs), seconds(st.mtimeNs));
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** Extended attributes of the copied entries, read and written in one batch each. */
async function copyXattrs(sourceDir: string, state: CopyState): Promise<void> {
  const signalOpt = state.signal ? { signal: state.signal } : {};
  const all = await readXattrsTree(sourceDir, signalOpt);
  const ops: XattrOp[] = [];
  for (const [src, attrs] of all) {
    const dest = state.xattrTargets.get(src);
    if (dest === undefined) continue;
    for (const [name, value] of attrs) {
      if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) continue;
      ops.push({ path: dest, name, value });
    }
  }
  // Best effort, as Docker's copy: a filesystem without xattr support must not fail the mount.
  await bestEffort(`copying extended attributes from ${sourceDir}`, setXattrs(ops, signalOpt));
}
