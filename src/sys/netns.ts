/**
 * Named network namespaces: a file bind-mounted on a namespace (nsfs) keeps it alive with no
 * process in it, as `ip netns` does. util-linux's `unshare --net=FILE true` creates one; runc
 * joins it by path, CNI plugins configure it by path; removing unmounts and deletes the file.
 * It never configures what is inside a namespace (CNI plugins do).
 */
import { mkdir, open, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { internal } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { execProgram } from "./exec.js";
import { isMountPoint, unmount } from "./mount.js";

/**
 * Creates a new network namespace bound at `path` (a no-op when one is bound there), its loopback
 * device up: `unshare` runs `ip link set lo up` inside the new namespace, one program for both.
 */
export async function createNetns(path: string): Promise<void> {
  if (await isMountPoint(path)) return;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const fh = await open(path, "a", 0o600);
  await fh.close();
  const r = await execProgram("unshare", [`--net=${path}`, "ip", "link", "set", "lo", "up"], {
    pkg: "util-linux",
  });
  if (r.code !== 0) {
    await bestEffort(`unmounting ${path}`, unmount(path));
    await rm(path, { force: true });
    throw internal(`cannot create a network namespace at ${path}: ${r.stderr.trim()}`);
  }
}

/** Unbinds and deletes a namespace file; the namespace goes once nothing uses it. */
export async function removeNetns(path: string): Promise<void> {
  await unmount(path);
  await rm(path, { force: true });
}

/** Runs a program inside a network namespace (`nsenter --net=PATH`). */
export function execInNetns(path: string, cmd: string, args: readonly string[]) {
  return execProgram("nsenter", [`--net=${path}`, "--", cmd, ...args], { pkg: "util-linux" });
}
