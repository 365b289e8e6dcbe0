/**
 * `docker diff`: the changes of a container's writable layer (the overlay upper dir) against its
 * image. A 0/0 character device is a whiteout (D); anything else is C when the image's layers
 * have that path and A when they do not. Directories are walked; a deleted directory's contents
 * are not listed.
 *
 * runc creates mount points in the writable layer (/etc/hosts, /etc/resolv.conf, /proc, …);
 * Docker keeps those in an "init" layer below the writable one, so they never show in `diff` or
 * in a commit. berth has no init layer, so the same paths are left out when they are empty mount
 * stubs (an empty file or directory), and a directory that changed only because of them is left
 * out too.
 */
import type { BigIntStats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../base/errors.js";
import type { ContainerChange } from "../engine/types.js";

/** Paths of Docker's init layer (mount points the runtime creates), relative to the root. */
export const INIT_PATHS: ReadonlySet<string> = new Set([
  ".dockerenv",
  "etc/hostname",
  "etc/hosts",
  "etc/resolv.conf",
  "etc/mtab",
  "dev/console",
  "dev/pts",
  "dev/shm",
  "dev/mqueue",
  "proc",
  "sys",
]);

export const CHANGE_MODIFIED = 0;
export const CHANGE_ADDED = 1;
export const CHANGE_DELETED = 2;

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

/** True for an init-layer path that holds nothing but a mount stub. */
export function isInitStub(
  rel: string,
  st: { isFile(): boolean; isDirectory(): boolean; size: number | bigint },
  emptyDir: boolean,
): boolean {
  if (!INIT_PATHS.has(rel)) return false;
  if (st.isFile()) return Number(st.size) === 0;
  return st.isDirectory() && emptyDir;
}

/** Whether `rel` exists in the stacked image layers (`lowers` topmost first). */
export async function existsInLayers(lowers: readonly string[], rel: string): Promise<boolean> {
  const parts = rel.split("/");
  for (const layer of lowers) {
    let cur = layer;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i] as string);
      let st: BigIntStats;
      try {
        st = await lstat(cur, { bigint: true });
      } catch (err) {
        const code = errnoCode(err);
        if (code === "ENOENT" || code === "ENOTDIR") break; // not in this layer: look lower
        throw err;
      }
      if (isWhiteout(st)) return false; // this layer deleted it (or a parent)
      if (i === parts.length - 1) return true;
      if (!st.isDirectory()) return false; // a file here hides the lower directory
    }
  }
  return false;
}

/** The changes of `upper` against `lowers` (topmost first), sorted by path as Docker prints them. */
export async function writableLayerChanges(
  upper: string,
  lowers: readonly string[],
): Promise<ContainerChange[]> {
  const out: ContainerChange[] = [];
  await walk(upper, "", lowers, out);
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** Walks one directory; returns whether anything was left out below it (init stubs). */
async function walk(
  upper: string,
  rel: string,
  lowers: readonly string[],
  out: ContainerChange[],
): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(join(upper, rel));
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
  let skipped = false;
  for (const name of names) {
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const st = await lstat(join(upper, childRel), { bigint: true });
    if (isWhiteout(st)) {
      out.push({ Kind: CHANGE_DELETED, Path: `/${childRel}` });
      continue;
    }
    const emptyDir = st.isDirectory() && (await readdir(join(upper, childRel))).length === 0;
    if (isInitStub(childRel, st, emptyDir)) {
      skipped = true;
      continue;
    }
    const kind = (await existsInLayers(lowers, childRel)) ? CHANGE_MODIFIED : CHANGE_ADDED;
    if (!st.isDirectory()) {
      out.push({ Kind: kind, Path: `/${childRel}` });
      continue;
    }
    const before = out.length;
    const entry: ContainerChange = { Kind: kind, Path: `/${childRel}` };
    out.push(entry);
    const childSkipped = await walk(upper, childRel, lowers, out);
    // A directory of the image copied up only because runc made a mount point in it.
    if (childSkipped && kind === CHANGE_MODIFIED && out.length === before + 1) {
      out.pop();
      skipped = true;
    }
  }
  return skipped;
}
