/**
 * A build step's root filesystem: an overlay of the parent layers plus a fresh upper directory
 * under `<root>/builds/<pid>-<random>/` (the runtime driver's layout: upper, work, merged,
 * bundle). The upper directory's diff becomes the step's layer (overlayfs whiteouts become OCI
 * whiteouts in diff/createLayer). Build steps are not containers: no record, never in `ps`.
 *
 * Crash safety: the directory name carries the owning berth process's PID; `sweepStale()` (run at
 * engine start) unmounts and deletes the workspaces of processes that are gone, and the runc
 * containers (`build-…`) they left.
 */
import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { bestEffort } from "../base/log.js";
import { createLayer } from "../diff/create.js";
import type { Digest } from "../oci/digest.js";
import type { RuntimeDriver } from "../runtime/driver.js";
import { lstatIfExists, readdirIfExists, removeDirIfEmpty } from "../sys/fs.js";
import { pidExists } from "../sys/process.js";

export const BUILD_CONTAINER_PREFIX = "build-";

/** Mount stubs runc creates in the upper directory when the image lacks them. */
const STUB_PATHS = ["proc", "sys", "dev", "etc/hosts", "etc/hostname", "etc/resolv.conf"];

export class Workspace {
  private constructor(
    readonly id: string,
    readonly driver: RuntimeDriver,
    readonly layers: readonly Digest[],
    readonly rootfs: string,
  ) {}

  static async open(driver: RuntimeDriver, layers: readonly Digest[]): Promise<Workspace> {
    const id = `${process.pid}-${randomBytes(6).toString("hex")}`;
    await driver.prepare(id);
    try {
      const rootfs = await driver.mountRootfs(id, layers);
      return new Workspace(id, driver, layers, rootfs);
    } catch (err) {
      await bestEffort(`removing build workspace ${id}`, driver.destroy(id));
      throw err;
    }
  }

  get runcId(): string {
    return `${BUILD_CONTAINER_PREFIX}${this.id}`;
  }
  get bundle(): string {
    return this.driver.bundle(this.id);
  }
  get upper(): string {
    return this.driver.upper(this.id);
  }

  /**
   * Unmounts, drops runc's mount stubs that the parent layers do not have, and reports whether
   * the upper directory holds any change.
   */
  async finish(snapshotPath: (chainId: Digest) => string): Promise<boolean> {
    await this.driver.unmountRootfs(this.id);
    for (const rel of STUB_PATHS) {
      const p = join(this.upper, rel);
      const st = await lstatIfExists(p);
      if (!st) continue;
      let inLower = false;
      for (const l of this.layers) {
        if (await lstatIfExists(join(snapshotPath(l), rel))) inLower = true;
      }
      if (inLower) continue;
      // A stub directory the step wrote into is a change: it stays.
      if (st.isDirectory()) await removeDirIfEmpty(p);
      else if (st.isFile() && st.size === 0) await rm(p, { force: true });
    }
    const etc = join(this.upper, "etc");
    const etcSt = await lstatIfExists(etc);
    if (etcSt?.isDirectory() && (await readdir(etc)).length === 0) {
      let inLower = false;
      for (const l of this.layers) if (await lstatIfExists(join(snapshotPath(l), "etc"))) inLower = true;
      if (!inLower) await removeDirIfEmpty(etc);
    }
    return (await readdir(this.upper)).length > 0;
  }

  /** The upper directory as a layer tar. */
  layerStream(signal?: AbortSignal): Readable {
    return createLayer(this.upper, signal ? { signal } : {});
  }

  async close(): Promise<void> {
    await bestEffort(
      `deleting runc container ${this.runcId}`,
      this.driver.runc.delete(this.runcId, { force: true }),
    );
    await this.driver.destroy(this.id);
  }
}

/** Removes workspaces (and their runc containers) left by berth processes that are gone. */
export async function sweepStaleWorkspaces(driver: RuntimeDriver, dir: string): Promise<void> {
  const names = await readdirIfExists(dir);
  for (const name of names) {
    const m = /^(\d+)-[0-9a-f]+$/.exec(name);
    if (!m) {
      if (/\.del-/.test(name)) await rm(join(dir, name), { recursive: true, force: true });
      continue;
    }
    if (pidExists(Number(m[1]))) continue;
    await bestEffort(
      `deleting runc container of dead build workspace ${name}`,
      driver.runc.delete(`${BUILD_CONTAINER_PREFIX}${name}`, { force: true }),
    );
    await bestEffort(`removing dead build workspace ${name}`, driver.destroy(name));
  }
}
