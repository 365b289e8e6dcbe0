/**
 * Paths inside a root filesystem — an image's, a build stage's, or a running container's view
 * with its volumes and bind mounts — resolved on the host the way the kernel resolves them inside
 * that root, without entering it (Node has neither chroot nor openat2). The one implementation of
 * this security-critical walk: the builder's COPY destinations, reading /etc/passwd of an image,
 * and `cp`/archive of a container all go through it.
 *
 * A root's view is its directory with mounts stacked at their destinations. `resolveContainerPath`
 * walks a path one component at a time: each component is looked up with lstat in the directory
 * that owns it (the root or the source of the innermost mount covering it); a symlink is read with
 * readlink and its target spliced in, restarting at `/` for absolute targets; `..` never climbs
 * above `/`, also in what follows a missing component (a plain lexical join there could climb out
 * of the root). So a planted symlink (`/x -> /`, `/y -> ../../../etc`,
 * `/z -> missing/../../../etc`) always lands inside the view, never on a host path (containerd
 * `fs.RootPath` semantics, extended to mounts; security-anchors §2.1 pattern, §2.2).
 *
 * Resolution is check-then-use: between it and the use of the result a process in a running
 * container could swap a directory for a symlink. Callers copying into or out of a running
 * container therefore (1) pause it for the duration of the copy (Docker's mitigation for
 * CVE-2018-15664 before chrooted copies), and (2) verify every descriptor they open with
 * `assertOpenedInside` (the kernel's own answer, from /proc/self/fd, that the opened object lies
 * under the expected root).
 */
import { lstat, readFile, readlink, realpath } from "node:fs/promises";
import { join, posix } from "node:path";
import { errnoCode, invalidArgument } from "../base/errors.js";
import { lstatIfExists } from "./fs.js";

const MAX_LINKS = 40;

/** A mount of the container's view: a container path backed by a host path. */
export interface MountView {
  /** Absolute path inside the container. */
  readonly destination: string;
  /** The host directory (or file) mounted there. */
  readonly source: string;
}

/** Where a container path lives on the host. */
export interface ResolvedContainerPath {
  /** The canonical path inside the container ("/" for the root). */
  readonly containerPath: string;
  /** The host path of that container path. */
  readonly host: string;
  /** The host directory that contains it and that nothing may escape: the rootfs or a mount source. */
  readonly root: string;
  /** The container path `root` is mounted at ("/" for the rootfs). */
  readonly rootDestination: string;
  /** False when the last component (or a later one) does not exist. */
  readonly exists: boolean;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (a trailing "/" or "/." always does). */
  readonly followLast?: boolean;
}

/** Normalised mount destinations, innermost (longest) first. */
function sortedMounts(mounts: readonly MountView[]): MountView[] {
  return mounts
    .map((m) => ({
      destination: posix.normalize(`/${m.destination}`).replace(/\/+$/, "") || "/",
      source: m.source,
    }))
    .filter((m) => m.destination !== "/")
    .sort((a, b) => b.destination.length - a.destination.length);
}

/** The host location of a canonical container path (no symlinks left in it). */
export function hostLocation(
  rootfs: string,
  mounts: readonly MountView[],
  containerPath: string,
): { host: string; root: string; rootDestination: string } {
  for (const m of sortedMounts(mounts)) {
    if (containerPath === m.destination)
      return { host: m.source, root: m.source, rootDestination: m.destination };
    if (containerPath.startsWith(`${m.destination}/`)) {
      return {
        host: join(m.source, containerPath.slice(m.destination.length + 1)),
        root: m.source,
        rootDestination: m.destination,
      };
    }
  }
  return { host: join(rootfs, containerPath), root: rootfs, rootDestination: "/" };
}

/**
 * Resolves `path` (absolute inside the container) to a host path. Symlinks in every component
 * but the last are followed inside the container's view; the last is followed only with
 * `followLast` or when the path ends in "/" or "/.". A missing component ends the walk: the
 * remaining components are appended (a ".." removing one, never climbing above `/`) and `exists`
 * is false.
 */
export async function resolveContainerPath(
  rootfs: string,
  mounts: readonly MountView[],
  path: string,
  opts: ResolveOptions = {},
): Promise<ResolvedContainerPath> {
  const sorted = sortedMounts(mounts);
  const mountDests = new Set(sorted.map((m) => m.destination));
  const followLast = opts.followLast === true || /\/\.?$/.test(path);
  const pending = path.split("/").filter((p) => p !== "" && p !== ".");
  const done: string[] = [];
  let links = 0;
  let exists = true;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const candidate = `/${[...done, part].join("/")}`;
    if (mountDests.has(candidate)) {
      // A mount point is whatever is mounted there, never a symlink of the layer beneath.
      done.push(part);
      continue;
    }
    const { host } = hostLocation(rootfs, sorted, candidate);
    let isLink = false;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (err) {
      const code = errnoCode(err);
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
      // The kernel would stop here (ENOENT). The rest is kept for callers that create it (a
      // COPY destination), clamped as the walk is: a ".." pops a component, never the root.
      done.push(part);
      for (const rest of pending) {
        if (rest === "..") done.pop();
        else if (rest !== ".") done.push(rest);
      }
      exists = false;
      break;
    }
    if (!isLink || (pending.length === 0 && !followLast)) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw invalidArgument(`too many levels of symbolic links resolving ${path}`);
    const target = await readlink(host);
    if (target.startsWith("/")) done.length = 0;
    pending.unshift(...target.split("/").filter((p) => p !== ""));
  }
  const containerPath = posix.normalize(`/${done.join("/")}`);
  const loc = hostLocation(rootfs, sorted, containerPath);
  if (exists) exists = (await lstatIfExists(loc.host)) !== undefined;
  return { containerPath, ...loc, exists };
}

/** True when `path` is `root` or below it. */
export function isInside(root: string, path: string): boolean {
  const r = root.endsWith("/") ? root : `${root}/`;
  return path === root || path.startsWith(r);
}

/**
 * Checks, by asking the kernel where an open descriptor really is (/proc/self/fd/N), that it lies
 * inside `root`. Throws instead of letting a copy read or write a host file a racing container
 * redirected it to.
 */
export async function assertOpenedInside(fd: number, root: string, shown: string): Promise<void> {
  const real = await readlink(`/proc/self/fd/${fd}`);
  const realRoot = await realDir(root);
  if (!isInside(realRoot, real)) {
    throw invalidArgument(`refusing to copy ${shown}: it resolves outside the container's filesystem`);
  }
}

async function realDir(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (err) {
    // Not there (yet): compared as written.
    if (errnoCode(err) === "ENOENT") return p;
    throw err;
  }
}

/**
 * The host path `path` (absolute, inside the root directory `root`, no mounts) resolves to, every
 * symlink followed inside the root; the last components may be missing.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  return (await resolveContainerPath(root, [], path, { followLast: true })).host;
}

/** Reads a file of a root filesystem (symlinks resolved inside it); undefined when missing. */
export async function readFileInRoot(
  root: string,
  path: string,
  maxBytes = 4 << 20,
): Promise<string | undefined> {
  const host = await resolveInRoot(root, path);
  try {
    const st = await lstat(host);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return await readFile(host, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return undefined;
    throw err;
  }
}
