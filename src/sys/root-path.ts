/**
 * Resolving a path inside a directory that stands for a root filesystem (an image or container
 * rootfs) the way the kernel would inside a chroot: symlinks are followed, but absolute targets
 * restart at the root and `..` never climbs above it. For reading files out of images (e.g.
 * /etc/passwd) without ever reading a host file through a planted symlink.
 */
import { lstat, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { errnoCode, invalidArgument } from "../base/errors.js";

const MAX_LINKS = 40;

/** The host path `path` (absolute, inside the root) resolves to; the last component may be missing. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const pending = posix.normalize(path).split("/").filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let isLink = false;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") {
        done.push(part, ...pending);
        return join(root, ...done);
      }
      throw err;
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw invalidArgument(`too many levels of symbolic links resolving ${path}`);
    const target = await readlink(host);
    if (target.startsWith("/")) done.length = 0;
    pending.unshift(...target.split("/").filter(Boolean));
  }
  return join(root, ...done);
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
