/**
 * File operations the stores share: crash-safe writes (temp → fsync → rename, then the
 * directory's fsync), atomic replacement without fsync for files made again before every use,
 * and the "if it exists" reads and removals, where a missing path is an answer
 * rather than an error. Owns no paths of its own and never decides what a missing file means to
 * its caller beyond returning undefined, [] or false.
 */
import { randomBytes } from "node:crypto";
import { constants, readFileSync, type Stats } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errnoCode } from "../base/errors.js";

/** fsyncs a directory so that a rename inside it survives a crash. */
export function fsyncDir(dir: string): Promise<void> {
  return fsyncOpened(dir, constants.O_RDONLY | constants.O_DIRECTORY);
}

/** fsyncs a file written through a descriptor that is closed now (any descriptor flushes it). */
export function fsyncFile(path: string): Promise<void> {
  return fsyncOpened(path, constants.O_RDONLY | constants.O_NOFOLLOW);
}

async function fsyncOpened(path: string, flags: number): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A fresh temporary name beside `path`, for write-then-rename. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Writes `data` to `path` atomically: a reader sees the old file or the whole new one. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/**
 * Writes `data` to `path` so that a reader sees the old file or the whole new one (temp → rename),
 * without making it durable (no fsync): for files made again before every use — a container's
 * runtime bundle and the /etc files bound into it, written at each start — which a crash can
 * only leave behind unused. Each fsync here cost a disk flush on the way to `runc start`.
 */
export async function writeFileReplace(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data, { mode, flag: "wx" });
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data, { mode, flag: "wx" });
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Removes a path if it exists; true when something was removed. */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await rm(path, { recursive: true, force: false });
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
}

/** A path's lstat, or undefined when it does not exist (ENOENT, ENOTDIR); other errors throw. */
export function lstatIfExists(path: string): Promise<Stats | undefined> {
  return unlessMissing(() => lstat(path));
}

/** A path's stat (links followed), or undefined when it does not exist; other errors throw. */
export function statIfExists(path: string): Promise<Stats | undefined> {
  return unlessMissing(() => stat(path));
}

/** A text file's content, or undefined when it does not exist; other errors throw. */
export function readTextIfExists(path: string): Promise<string | undefined> {
  return unlessMissing(() => readFile(path, "utf8"));
}

/** readTextIfExists for the few callers that cannot wait. */
export function readTextIfExistsSync(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/**
 * A directory's entry names, or [] when it does not exist (ENOENT); other errors throw — a file
 * where a directory was expected (ENOTDIR) among them.
 */
export async function readdirIfExists(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
}

/**
 * Removes a directory if it is empty; false when it is not (ENOTEMPTY, EEXIST) or is gone
 * (ENOENT). Other errors throw.
 */
export async function removeDirIfEmpty(path: string): Promise<boolean> {
  try {
    await rmdir(path);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOENT") return false;
    throw err;
  }
}

/** `op`'s result, or undefined when it fails because the path does not exist (ENOENT, ENOTDIR). */
async function unlessMissing<T>(op: () => Promise<T>): Promise<T | undefined> {
  try {
    return await op();
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === "ENOENT" || code === "ENOTDIR";
}
