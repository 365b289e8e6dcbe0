/**
 * The bridge from a container record to runtime/spec: resolves the user from the image's own
 * /etc/passwd and /etc/group (read inside the rootfs, never through a symlink out of it), turns
 * the container's mounts into the spec's user mounts, and picks the network namespace.
 */
import { failedPrecondition } from "../base/errors.js";
import type { HostFacts, UserMount } from "../runtime/spec/generate.js";
import { buildRuntimeSpec } from "../runtime/spec/generate.js";
import { serializeRuntimeSpec } from "../runtime/spec/types.js";
import { resolveUser } from "../runtime/spec/user.js";
import { statIfExists } from "../sys/fs.js";
import { readFileInRoot } from "../sys/root-path.js";

import { cgroupPathOf, type StartContext } from "./service.js";

/** Where `--init` finds its init (Debian's tini, statically linked). */
export const INIT_BINARY = "/usr/bin/tini-static";

export async function buildSpecJson(ctx: StartContext, host: HostFacts): Promise<string> {
  const { rec, rootfs } = ctx;
  const [passwd, group] = await Promise.all([
    readFileInRoot(rootfs, "/etc/passwd"),
    readFileInRoot(rootfs, "/etc/group"),
  ]);
  const user = resolveUser(
    rec.config.User ?? "",
    { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) },
    rec.hostConfig.GroupAdd,
  );
  const mounts: UserMount[] = ctx.mounts.map((m) =>
    m.type === "tmpfs"
      ? { type: "tmpfs", destination: m.destination, options: m.options }
      : { type: "bind", source: m.source, destination: m.destination, readOnly: m.options.includes("ro") },
  );
  const mode = rec.hostConfig.NetworkMode ?? "none";
  if (rec.hostConfig.Init) {
    if (!(await statIfExists(INIT_BINARY)))
      throw failedPrecondition(`--init needs ${INIT_BINARY}: install the Debian package tini`);
  }
  const spec = buildRuntimeSpec({
    config: rec.config,
    hostConfig: rec.hostConfig,
    user,
    rootfs,
    mounts,
    network:
      mode === "host" ? { kind: "host" } : ctx.netns ? { kind: "path", path: ctx.netns } : { kind: "new" },
    networkFiles: ctx.hostsFiles,
    ...(rec.hostConfig.Init ? { initPath: INIT_BINARY } : {}),
    cgroupsPath: cgroupPathOf(rec.id),
    host,
  });
  return serializeRuntimeSpec(spec);
}
