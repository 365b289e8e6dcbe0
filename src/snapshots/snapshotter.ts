/**
 * The overlay snapshotter: unpacked layers as directories keyed by chainID, stacked by overlayfs.
 * It returns mount descriptions and never mounts (runtime/ does that).
 *
 * Lifecycle of a snapshot: `prepare()` gives a fresh private directory; the caller unpacks a
 * layer into its `fs/`; `commit(prepared, chainId)` renames it into `<dir>/<hex>` — atomic, so a
 * snapshot is either absent or complete. When another process committed the same chainID first,
 * commit discards ours and reports it. `remove()` renames the snapshot aside before deleting it,
 * so a crash half-way leaves only a `.del-*` directory that `cleanupStale()` removes.
 */
import { randomBytes } from "node:crypto";
import { renameSync, rmSync } from "node:fs";
import { mkdir, readdir, readlink, rename, rm, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../base/errors.js";
import { type Digest, digestHex } from "../oci/digest.js";
import { fsyncDir, statIfExists } from "../sys/fs.js";

export interface PreparedSnapshot {
  /** Private directory owned by the caller until commit or abort. */
  readonly dir: string;
  /** Where the layer's files go. */
  readonly fs: string;
}

/** An overlay mount as the runtime spec describes it. */
export interface OverlayMount {
  readonly type: "overlay" | "bind";
  readonly source: string;
  readonly options: readonly string[];
  /** The directory relative `lowerdir` entries are resolved from (mount from there). */
  readonly cwd?: string;
}

/**
 * Short names for layers in `lowerdir`: `l/<20 hex of the chainID>` → `../<hex>/fs`, resolved
 * from the snapshots directory (overlay2's design). The mount options must fit in a page (4096
 * bytes): full paths (`/var/lib/berth/snapshots/<64 hex>/fs`) fit about 40 layers, so images of
 * up to Docker's 125 layers (oci/limits.ts MAX_LAYERS) would be written and then fail to run.
 */
const LINK_DIR = "l";
const linkName = (chainId: Digest): string => `${LINK_DIR}/${digestHex(chainId).slice(0, 20)}`;

const TEMP_PREFIX = ".tmp-";
const DELETE_PREFIX = ".del-";

export class Snapshotter {
  constructor(readonly dir: string) {}

  /** The directory holding a committed snapshot's files. */
  fsPath(chainId: Digest): string {
    return join(this.dir, digestHex(chainId), "fs");
  }

  async exists(chainId: Digest): Promise<boolean> {
    try {
      return (await stat(this.fsPath(chainId))).isDirectory();
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return false;
      throw err;
    }
  }

  async prepare(): Promise<PreparedSnapshot> {
    const dir = join(this.dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
    const fs = join(dir, "fs");
    await mkdir(fs, { recursive: true, mode: 0o755 });
    return { dir, fs };
  }

  /** Publishes a prepared snapshot under its chainID; false when it already existed. */
  async commit(prepared: PreparedSnapshot, chainId: Digest): Promise<boolean> {
    const target = join(this.dir, digestHex(chainId));
    try {
      await rename(prepared.dir, target);
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOTEMPTY" || code === "EEXIST") {
        await this.abort(prepared);
        return false;
      }
      throw err;
    }
    await fsyncDir(this.dir);
    return true;
  }

  async abort(prepared: PreparedSnapshot): Promise<void> {
    await rm(prepared.dir, { recursive: true, force: true });
  }

  /**
   * Renames a snapshot aside at once (it is gone from its chainID from then on), for garbage
   * collection inside a database transaction; `purge` deletes what was set aside.
   */
  setAsideSync(chainId: Digest): string | undefined {
    rmSync(join(this.dir, linkName(chainId)), { force: true });
    const target = join(this.dir, digestHex(chainId));
    const aside = join(this.dir, `${DELETE_PREFIX}${digestHex(chainId)}-${randomBytes(4).toString("hex")}`);
    try {
      renameSync(target, aside);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
    return aside;
  }

  async purge(aside: string): Promise<void> {
    await rm(aside, { recursive: true, force: true });
  }

  async remove(chainId: Digest): Promise<void> {
    await rm(join(this.dir, linkName(chainId)), { force: true });
    const target = join(this.dir, digestHex(chainId));
    const aside = join(this.dir, `${DELETE_PREFIX}${digestHex(chainId)}-${randomBytes(4).toString("hex")}`);
    try {
      await rename(target, aside);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    await rm(aside, { recursive: true, force: true });
  }

  /** Removes leftovers of crashed unpacks and removals older than `olderThanMs`. */
  async cleanupStale(olderThanMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return 0;
      throw err;
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX) && !name.startsWith(DELETE_PREFIX)) continue;
      const p = join(this.dir, name);
      try {
        const st = await stat(p);
        if (name.startsWith(DELETE_PREFIX) || now - st.mtimeMs > olderThanMs) {
          await rm(p, { recursive: true, force: true });
          removed++;
        }
      } catch (err) {
        if (errnoCode(err) !== "ENOENT") throw err;
      }
    }
    return removed;
  }

  /** Committed snapshot directories on disk, by hex chainID (for consistency checks). */
  async listOnDisk(opts: { modifiedBefore?: number } = {}): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return [];
      throw err;
    }
    if (opts.modifiedBefore === undefined) return names;
    const before = opts.modifiedBefore;
    const old: string[] = [];
    for (const n of names) {
      const st = await statIfExists(join(this.dir, n));
      if (st && st.mtimeMs < before) old.push(n);
    }
    return old;
  }

  /**
   * The root filesystem mount for a container: overlay of the layers (lowest last in
   * `lowerdir`, as overlayfs wants) under a writable upper/work pair. `top` is a directory stacked
   * above the layers (a container's init layer). With no lower directory at all, a bind of the
   * upper directory.
   */
  mounts(layers: readonly Digest[], upper: string, work: string, top?: string): OverlayMount[] {
    const lower = [...(top !== undefined ? [top] : []), ...[...layers].reverse().map(linkName)];
    if (lower.length === 0) return [{ type: "bind", source: upper, options: ["rbind", "rw"] }];
    return [
      {
        type: "overlay",
        source: "overlay",
        options: [`lowerdir=${lower.join(":")}`, `upperdir=${upper}`, `workdir=${work}`, "index=off"],
        cwd: this.dir,
      },
    ];
  }

  /** Makes sure the short links `mounts` names exist (made on first use; harmless if dangling). */
  async ensureLinks(layers: readonly Digest[]): Promise<void> {
    await mkdir(join(this.dir, LINK_DIR), { recursive: true, mode: 0o700 });
    for (const c of layers) {
      const path = join(this.dir, linkName(c));
      const target = `../${digestHex(c)}/fs`;
      const existing = await readlink(path).catch((err: unknown) => {
        if (errnoCode(err) === "ENOENT") return undefined;
        throw err;
      });
      if (existing === target) continue;
      if (existing !== undefined) await rm(path, { force: true });
      try {
        await symlink(target, path);
      } catch (err) {
        if (errnoCode(err) !== "EEXIST") throw err;
      }
    }
  }
}
