/**
 * `push`: a local image to a registry, as Docker's daemon does it. Each layer is sent as a gzip
 * blob: a compressed blob the store already has for the diffID is sent as it is; an
 * uncompressed one is gzipped once, stored, and recorded in layer_blobs, so every later push of
 * the layer sends the same bytes under the same digest (the registry then has it, and a second
 * push transfers no blob). A blob the repository has is skipped (HEAD); one that another
 * repository of the same registry holds (known from local references) is mounted; the rest are
 * uploaded, in parallel up to a bound. Then the config and the manifest; the manifest's digest
 * is recorded as a RepoDigest of the image.
 *
 * Interruption: a push killed midway leaves at most stored gzip blobs (recorded only once
 * complete, so valid) and abandoned uploads on the registry, which it discards; the next push
 * starts again and skips what the registry already has.
 * It never changes the image pushed; the only local writes are the gzip blobs and their
 * layer_blobs rows, and the RepoDigest recorded at the end.
 */
import { Readable } from "node:stream";
import { mapLimit } from "../base/async.js";
import { failedPrecondition, invalidArgument, notFound } from "../base/errors.js";
import { gzipStream } from "../diff/compression.js";
import type { ImagePushOptions, ProgressEvent } from "../engine/types.js";
import { type Digest, shortId } from "../oci/digest.js";
import { encodeManifest, type ImageManifest, MAX_DOCUMENT_BYTES, parseImageConfig } from "../oci/image.js";
import {
  type LayerCompression,
  layerCompression,
  layerMediaType,
  OCI_CONFIG,
  OCI_MANIFEST,
} from "../oci/media-types.js";
import {
  familiarName,
  familiarString,
  parseNormalizedNamed,
  parseReference,
  type Reference,
  referenceString,
  repositoryName,
  trimReference,
  withDefaultTag,
} from "../oci/reference.js";
import type { RegistryClient } from "../registry/client.js";
import type { ImageStore } from "./store.js";
import {
  clientFor,
  layerEvent,
  type ProgressQueue,
  progressEvent,
  progressStream,
  type TransferContext,
  throttled,
} from "./transfer.js";

/** Docker's default `max-concurrent-uploads`. */
export const DEFAULT_PUSH_CONCURRENCY = 5;
/** Repositories tried for a cross-repository mount of one blob. */
const MAX_MOUNT_CANDIDATES = 3;

export interface PushContext extends TransferContext {
  readonly concurrency?: number;
}

/** Pushes `reference` (or every tag of its repository with `allTags`), streaming progress. */
export function pushImage(
  store: ImageStore,
  reference: string,
  opts: ImagePushOptions & PushContext,
): AsyncIterable<ProgressEvent> {
  return progressStream(async (queue) => {
    const parsed = parseNormalizedNamed(reference);
    if (parsed.digest !== undefined) throw invalidArgument("cannot push a digest reference");
    if (opts.allTags && parsed.tag !== undefined)
      throw invalidArgument("tag can't be used with --all-tags/-a");
    const repo = trimReference(parsed);
    let targets: Reference[];
    if (opts.allTags) {
      const prefix = `${repositoryName(repo)}:`;
      targets = store.meta
        .allRefs()
        .filter((r) => r.kind === "tag" && r.name.startsWith(prefix))
        .map((r) => parseReference(r.name))
        .filter((r) => r.tag !== undefined && repositoryName(r) === repositoryName(repo))
        .sort((a, b) => (a.tag ?? "").localeCompare(b.tag ?? ""));
      if (targets.length === 0) {
        throw notFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
      }
    } else {
      const ref = withDefaultTag(parsed);
      if (!store.meta.getRef(referenceString(ref))) {
        throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
      }
      targets = [ref];
    }
    queue.push({ status: `The push refers to repository [${repositoryName(repo)}]` });
    const client = clientFor(repo, { auth: opts.auth, context: opts });
    for (const target of targets) {
      await pushOne(store, client, target, { ...opts, queue });
      store.emitImageEvent("push", familiarString(target), familiarName(target));
    }
  });
}

interface PushOneOptions extends ImagePushOptions, PushContext {
  readonly queue: ProgressQueue;
}

interface PushableLayer {
  readonly diffId: Digest;
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
}

async function pushOne(store: ImageStore, client: RegistryClient, ref: Reference, opts: PushOneOptions) {
  const { queue } = opts;
  const name = referenceString(ref);
  const found = store.meta.getRef(name);
  const rec = found ? store.meta.getImage(found.imageId) : undefined;
  if (!rec) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  const configBytes = await store.content.readBlob(rec.id, { maxBytes: MAX_DOCUMENT_BYTES });
  const config = parseImageConfig(configBytes);
  const diffIds = config.rootfs.diff_ids;
  // Docker lists the top layer first.
  const order = diffIds.map((_, i) => diffIds.length - 1 - i);
  for (const i of order) queue.push(layerEvent(shortId(diffIds[i] as Digest), "Preparing"));
  const layers: PushableLayer[] = [];
  for (const diffId of diffIds) layers.push(await pushableBlob(store, diffId, opts.signal));
  const concurrency = opts.concurrency ?? DEFAULT_PUSH_CONCURRENCY;
  order.slice(concurrency).forEach((i) => {
    queue.push(layerEvent(shortId(diffIds[i] as Digest), "Waiting"));
  });
  await mapLimit(order, concurrency, async (i) => {
    const layer = layers[i] as PushableLayer;
    const id = shortId(layer.diffId);
    const result = await client.uploadBlob(layer, () => store.content.openBlob(layer.digest), {
      mountFrom: mountCandidates(store, ref, layer.diffId),
      onProgress: throttled((n) => queue.push(progressEvent(id, "Pushing", n, layer.size)), layer.size),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (result.kind === "exists") queue.push(layerEvent(id, "Layer already exists"));
    else if (result.kind === "mounted") queue.push(layerEvent(id, `Mounted from ${result.from}`));
    else queue.push(layerEvent(id, "Pushed"));
  });
  const configDesc = { mediaType: OCI_CONFIG, digest: rec.id, size: configBytes.byteLength };
  await client.uploadBlob(
    configDesc,
    () => Readable.from([configBytes]),
    opts.signal ? { signal: opts.signal } : {},
  );
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: configDesc,
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const bytes = encodeManifest(manifest);
  const tag = ref.tag ?? "latest";
  const digest = await client.putManifest(tag, bytes, OCI_MANIFEST, opts.signal);
  store.db.write(() => {
    store.meta.setRef(referenceString({ ...trimReference(ref), digest }), rec.id, "digest", store.now());
  });
  // Two messages, as dockerd sends them: the docker CLI prints a status, and hands a message
  // with `aux` to its callback without printing it.
  queue.push({ status: `${tag}: digest: ${digest} size: ${bytes.byteLength}` });
  queue.push({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: bytes.byteLength } });
}

function compressionOf(mediaType: string): LayerCompression | undefined {
  try {
    return layerCompression(mediaType);
  } catch {
    return undefined;
  }
}

/**
 * The blob to push for a layer: a stored compressed one, else the stored uncompressed one
 * gzipped now, stored and recorded (so that the next push sends the same digest).
 */
async function pushableBlob(store: ImageStore, diffId: Digest, signal?: AbortSignal): Promise<PushableLayer> {
  const records = store.meta.layerBlobs(diffId);
  let plain: (typeof records)[number] | undefined;
  for (const r of records) {
    const c = compressionOf(r.mediaType);
    if (c === undefined || !(await store.content.hasBlob(r.blobDigest))) continue;
    if (c === "none") {
      plain ??= r;
      continue;
    }
    return { diffId, digest: r.blobDigest, size: r.blobSize, mediaType: layerMediaType(c, "oci") };
  }
  if (!plain) throw failedPrecondition(`layer ${diffId} has no stored blob to push`);
  const gz = gzipStream(store.content.openBlob(plain.blobDigest), signal ? { signal } : {});
  const blob = await store.content.writeBlob(gz, signal ? { signal } : {});
  const mediaType = layerMediaType("gzip", "oci");
  store.db.write(() => {
    store.meta.putLayerBlob({ diffId, blobDigest: blob.digest, mediaType, blobSize: blob.size });
  });
  return { diffId, digest: blob.digest, size: blob.size, mediaType };
}

/** Other repositories of the same registry whose local images have this layer. */
function mountCandidates(store: ImageStore, target: Reference, diffId: Digest): string[] {
  const out: string[] = [];
  for (const r of store.meta.allRefs()) {
    let ref: Reference;
    try {
      ref = parseReference(r.name);
    } catch {
      continue;
    }
    if (ref.domain !== target.domain || ref.path === target.path || out.includes(ref.path)) continue;
    const image = store.meta.getImage(r.imageId);
    if (image?.layers.some((l) => l.diffId === diffId)) out.push(ref.path);
    if (out.length >= MAX_MOUNT_CANDIDATES) break;
  }
  return out;
}
