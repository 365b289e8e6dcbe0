/**
 * `import`: a root filesystem tarball becomes a one-layer image. The tarball is stored as the
 * layer blob and unpacked in the same pass; `--change` instructions shape the config.
 * It makes the image through the store's ingestLayer and createImage only; it never writes
 * records or snapshots itself.
 */
import { Readable } from "node:stream";
import type { HostPlatform } from "../config/host.js";
import type { ByteSource, ImageImportOptions, ImageImportResult } from "../engine/types.js";
import type { ImageConfig } from "../oci/image.js";
import { parsePlatform } from "../oci/platform.js";
import { familiarString } from "../oci/reference.js";
import { applyChanges } from "./changes.js";
import { parseTarget } from "./service.js";
import type { ImageStore } from "./store.js";

export interface ImportContext {
  /** The platform images are made for when none is asked (the host's). */
  readonly hostPlatform: HostPlatform;
}

export async function importImage(
  store: ImageStore,
  source: ByteSource,
  opts: ImageImportOptions & ImportContext,
): Promise<ImageImportResult> {
  // Everything cheap is checked before a byte is read, so bad input changes nothing.
  const tag = opts.reference ? parseTarget(opts.reference) : undefined;
  const containerConfig = applyChanges({}, opts.changes ?? []);
  const platform = opts.platform ? parsePlatform(opts.platform, opts.hostPlatform) : opts.hostPlatform;
  const readable = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  return store.withLease(async (lease) => {
    const layer = await store.ingestLayer(readable, { signal: opts.signal, lease });
    const created = new Date(store.now()).toISOString();
    const comment = opts.message ?? "Imported from -";
    const config: ImageConfig = {
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: platform.os,
      created,
      comment,
      config: containerConfig,
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
      history: [{ created, comment }],
    };
    try {
      const result = await store.createImage({ config, layers: [layer], tags: tag ? [tag] : [], lease });
      if (tag) store.emitImageEvent("tag", result.id, familiarString(tag), result.id);
      store.emitImageEvent("import", result.id, result.id, result.id);
      return { id: result.id };
    } catch (err) {
      await store.discardLayers([layer], lease);
      throw err;
    }
  });
}
