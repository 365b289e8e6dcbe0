/**
 * Where a container's files live under the runtime's containers directory: its directory, the
 * OCI bundle, overlayfs's merged root, its upper (writable) and init layers, and its log file. One
 * layout, shared by the runc/conmon driver and the in-memory runtime tests use in its place, so
 * that what a test finds on disk is where the real driver puts it. Paths only: nothing is created.
 */
import { join } from "node:path";

export class ContainerDirs {
  constructor(readonly containersDir: string) {}

  dir(id: string): string {
    return join(this.containersDir, id);
  }
  bundle(id: string): string {
    return join(this.dir(id), "bundle");
  }
  rootfs(id: string): string {
    return join(this.dir(id), "merged");
  }
  upper(id: string): string {
    return join(this.dir(id), "upper");
  }
  /** The init layer: what Docker's `-init` layer holds, stacked between the image and `upper`. */
  initLayer(id: string): string {
    return join(this.dir(id), "init");
  }
  logPath(id: string): string {
    return join(this.dir(id), "container.log");
  }
}
