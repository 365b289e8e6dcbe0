/**
 * `commit`: a container's writable layer becomes a new layer on top of its image's layers.
 * By Docker's rules the image config is the container's Config (Cmd, Entrypoint, Env, …) with the
 * `--change` instructions applied; history is the parent's plus one row whose created_by is the
 * container's Cmd joined with spaces, comment the message and author the author; the image's
 * Parent is the container's image. A running container is paused while its layer is read
 * (`pause`, default true). runc's mount stubs (Docker's init layer) are left out of the layer.
 * A layer with no entries is not stored: the history row is marked empty_layer.
 */

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { notFound } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { createLayer } from "../diff/create.js";
import type { ContainerCommitOptions, ContainerCommitResponse, ContainerConfig } from "../engine/types.js";
import { applyChanges } from "../images/changes.js";
import { parseTarget } from "../images/service.js";
import type { IngestedLayer } from "../images/store.js";
import type { HistoryEntry, ImageConfig, ContainerConfig as ImageContainerConfig } from "../oci/image.js";
import { familiarString } from "../oci/reference.js";
import { lstatIfExists } from "../sys/fs.js";
import { INIT_PATHS, isInitStub } from "./changes.js";
import type { ContainerService } from "./service.js";
import { entryPath, joinTar } from "./tar-join.js";

/** The image-config part of a container's Config (the members an image carries). */
export function imageConfigOf(c: ContainerConfig): ImageContainerConfig {
  const out: Record<string, unknown> = {};
  if (c.User) out.User = c.User;
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = { ...c.ExposedPorts };
  if (c.Env && c.Env.length > 0) out.Env = [...c.Env];
  if (c.Cmd && c.Cmd.length > 0) out.Cmd = [...c.Cmd];
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  if (c.Volumes && Object.keys(c.Volumes).length > 0) out.Volumes = { ...c.Volumes };
  if (c.WorkingDir) out.WorkingDir = c.WorkingDir;
  if (c.Entrypoint && c.Entrypoint.length > 0) out.Entrypoint = [...c.Entrypoint];
  if (c.OnBuild && c.OnBuild.length > 0) out.OnBuild = [...c.OnBuild];
  if (c.Labels && Object.keys(c.Labels).length > 0) out.Labels = { ...c.Labels };
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.Shell && c.Shell.length > 0) out.Shell = [...c.Shell];
  return out as ImageContainerConfig;
}

/** Init-layer stubs present in the writable layer (relative paths) — left out of the commit. */
export async function initStubs(upper: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const rel of INIT_PATHS) {
    const st = await lstatIfExists(join(upper, rel));
    if (!st) continue;
    const empty = st.isDirectory() && (await readdir(join(upper, rel))).length === 0;
    if (isInitStub(rel, st, empty)) out.add(rel);
  }
  return out;
}

export async function commitContainer(
  svc: ContainerService,
  ref: string,
  opts: ContainerCommitOptions = {},
): Promise<ContainerCommitResponse> {
  // Under the container's lock: no stop, rm or restart while its layer is read (it may be paused).
  const id = svc.resolve(ref).id;
  return svc.withContainerLock(id, () => commitLocked(svc, id, opts));
}

async function commitLocked(
  svc: ContainerService,
  id: string,
  opts: ContainerCommitOptions,
): Promise<ContainerCommitResponse> {
  const store = svc.deps.images;
  const rec = svc.resolve(id);
  const tag = opts.reference ? parseTarget(opts.reference) : undefined;
  const parent = store.meta.getImage(rec.imageId);
  if (!parent) throw notFound(`No such image: ${rec.imageId}`);
  const parentConfig = await store.config(parent.id);
  const config = applyChanges(imageConfigOf(rec.config), opts.changes ?? []);
  // The parent's layers and what this commit writes are leased until the image is recorded.
  return store.withLease(async (lease) => {
    const parentLayers = await svc.deps.images.storedLayers(parent.id);
    await store.leaseLayers(parentLayers, lease);

    const driver = svc.deps.driver;
    const state = await bestEffort(`runc state of ${rec.id}`, driver.state(rec.id));
    const pause = opts.pause !== false && state?.status === "running";
    if (pause) await driver.pause(rec.id);
    let layer: IngestedLayer;
    let entries = 0;
    try {
      const upper = driver.upper(rec.id);
      const skip = await initStubs(upper);
      const stream = joinTar((j) =>
        j.addTar(createLayer(upper, opts.signal ? { signal: opts.signal } : {}), (h) => {
          if (skip.has(entryPath(h))) return undefined;
          entries++;
          return h;
        }),
      );
      const last = parentLayers[parentLayers.length - 1];
      layer = await store.ingestLayer(stream, {
        lease,
        ...(last ? { parentChainId: last.chainId } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } finally {
      if (pause) await bestEffort(`resuming container ${rec.id} after commit`, driver.resume(rec.id));
    }
    const empty = entries === 0;
    const created = new Date(store.now()).toISOString();
    const row: HistoryEntry = {
      created,
      created_by: (rec.config.Cmd ?? []).join(" "),
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(empty ? { empty_layer: true } : {}),
    };
    const layers = empty ? parentLayers : [...parentLayers, layer];
    const imageConfig: ImageConfig = {
      architecture: parentConfig.architecture,
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.comment ? { comment: opts.comment } : {}),
      config,
      created,
      history: [...(parentConfig.history ?? []), row],
      os: parentConfig.os,
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      ...(parentConfig.variant ? { variant: parentConfig.variant } : {}),
    };
    try {
      const result = await store.createImage({
        config: imageConfig,
        layers,
        parentId: parent.id,
        tags: tag ? [tag] : [],
        lease,
      });
      if (empty) await store.discardLayers([layer], lease);
      if (tag) store.emitImageEvent("tag", result.id, familiarString(tag), result.id);
      svc.emit(rec, "commit", {
        comment: opts.comment ?? "",
        imageID: result.id,
        imageRef: tag ? familiarString(tag) : "",
      });
      return { Id: result.id };
    } catch (err) {
      await store.discardLayers([layer], lease);
      throw err;
    }
  });
}
