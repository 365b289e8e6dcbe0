/**
 * Mounting and unmounting through util-linux (Node has no mount(2)).
 * It never decides what is mounted where (callers do).
 */
import { readFile } from "node:fs/promises";
import { internal } from "../base/errors.js";
import { execProgram } from "./exec.js";

export interface MountOptions {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
  /** Where relative paths in the options are resolved from (mount(8) runs there). */
  readonly cwd?: string;
}

export async function mount(target: string, opts: MountOptions): Promise<void> {
  const r = await execProgram("mount", ["-t", opts.type, "-o", opts.options.join(","), opts.source, target], {
    pkg: "mount",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  if (r.code !== 0) throw internal(`mount ${opts.type} on ${target} failed: ${r.stderr.trim()}`);
}

/** Unmounts `target` if it is mounted (lazily when busy); true when something was unmounted. */
export async function unmount(target: string): Promise<boolean> {
  if (!(await isMountPoint(target))) return false;
  const r = await execProgram("umount", [target], { pkg: "mount" });
  if (r.code === 0) return true;
  // Another process (a container's cleanup running at the same time) may have unmounted it.
  if (!(await isMountPoint(target))) return false;
  const lazy = await execProgram("umount", ["-l", target], { pkg: "mount" });
  if (lazy.code !== 0 && (await isMountPoint(target)))
    throw internal(`umount ${target} failed: ${r.stderr.trim()}`);
  return true;
}

/** Decodes the octal escapes /proc/self/mountinfo uses for spaces and the like. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export async function mountPoints(): Promise<Set<string>> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const mp = line.split(" ")[4];
    if (mp) out.add(unescapeMountPath(mp));
  }
  return out;
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountPoints()).has(path);
}
