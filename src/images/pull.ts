/**
 * `pull`: an image from a registry into the store, as Docker's daemon does it. The manifest (or
 * an index, resolved for the platform) and the config are read with size bounds and checked
 * against their digests; each layer is downloaded into the content store, verified while it
 * streams (nothing is committed unless size and digest match), then unpacked from there with its
 * diffID checked; layers go in parallel up to a bound. The image and its tag and digest
 * references are recorded in one transaction at the end (ImageStore.createImage).
 *
 * Failure and interruption: on an error, layers unpacked and blobs downloaded by this pull that
 * no record uses are removed, so nothing of a failed pull is visible. A pull killed outright
 * leaves at most committed, verified blobs (reused by the next pull: it resumes layer by layer),
 * partial ingests and temporary snapshots (removed by a later start after an hour) — never a
 * record.
 */
import type { Readable, Transform } from "node:stream";
import { mapLimit } from "../base/async.js";
import { BerthError, invalidArgument, isBerthError, notFound } from "../base/errors.js";
import { humanSize } from "../base/sizes.js";
import type { HostPlatform } from "../config/host.js";
import type { ImagePullOptions, ProgressEvent } from "../engine/types.js";
import type { Lease } from "../metadata/leases.js";
import { chainIds, type Digest, sha256Digest, shortId } from "../oci/digest.js";
import {
  checkLayerCount,
  type Descriptor,
  type ImageManifest,
  MAX_DOCUMENT_BYTES,
  parseImageConfig,
  parseManifestOrIndex,
  selectManifest,
} from "../oci/image.js";
import { isImageConfigMediaType, layerCompression, layerMediaType } from "../oci/media-types.js";
import { formatPlatform, matchPlatform, type Platform, parsePlatform } from "../oci/platform.js";
import {
  familiarName,
  familiarString,
  parseNormalizedNamed,
  type Reference,
  trimReference,
  withDefaultTag,
} from "../oci/reference.js";
import type { Authorizer } from "../registry/auth.js";
import type { RegistryClient } from "../registry/client.js";
import { countingStream, verificationFailed } from "../registry/verify.js";
import type { ImageStore, IngestedLayer } from "./store.js";
import {
  clientFor,
  layerEvent,
  type ProgressQueue,
  progressEvent,
  progressStream,
  type TransferContext,
  throttled,
  zstdDecompressStream,
} from "./transfer.js";

/** Docker's default `max-concurrent-downloads`. */
export const DEFAULT_PULL_CONCURRENCY = 3;
const MAX_INDEX_DEPTH = 4;

export interface PullContext extends TransferContext {
  readonly hostPlatform: HostPlatform;
  readonly concurrency?: number;
}

/** Pulls `reference` (or every tag of its repository with `allTags`), streaming progress. */
export function pullImage(
  store: ImageStore,
  reference: string,
  opts: ImagePullOptions & PullContext,
): AsyncIterable<ProgressEvent> {
  return progressStream(async (queue) => {
    const parsed = parseNormalizedNamed(reference);
    if (opts.allTags && (parsed.tag !== undefined || parsed.digest !== undefined)) {
      throw invalidArgument("tag can't be used with --all-tags/-a");
    }
    const wanted: Platform = opts.platform
      ? parsePlatform(opts.platform, opts.hostPlatform)
      : opts.hostPlatform;
    const probe = clientFor(parsed, { auth: opts.auth, context: opts });
    const authorizer = probe.authorizer;
    if (!opts.allTags) {
      const ref = withDefaultTag(parsed);
      const outcome = await pullOne(store, ref, { ...opts, wanted, queue, authorizer });
      queue.push({ status: `Digest: ${outcome.digest}` });
      queue.push({
        status: `Status: ${outcome.newer ? "Downloaded newer image" : "Image is up to date"} for ${familiarString(ref)}`,
      });
      return;
    }
    const tags = await withAccessMessage(parsed, () => probe.listTags(opts.signal));
    if (tags.length === 0) throw notFound(`no tags found for ${familiarName(parsed)}`);
    let newer = false;
    for (const tag of tags.sort()) {
      const ref: Reference = { ...trimReference(parsed), tag };
      const outcome = await pullOne(store, ref, { ...opts, wanted, queue, authorizer });
      queue.push({ status: `Digest: ${outcome.digest}` });
      newer ||= outcome.newer;
    }
    queue.push({
      status: `Status: ${newer ? "Downloaded newer image" : "Image is up to date"} for ${familiarName(parsed)}`,
    });
  });
}

interface PullOneOptions extends ImagePullOptions, PullContext {
  readonly wanted: Platform;
  readonly queue: ProgressQueue;
  readonly authorizer: Authorizer;
}

/** Rewrites an authorization failure as Docker words it for pulls. */
async function withAccessMessage<T>(ref: Reference, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isBerthError(err, "Unauthorized")) {
      throw new BerthError(
        "Unauthorized",
        `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${err.message}`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** The manifest for the wanted platform, following indexes; bytes verified by the client. */
async function resolveManifest(
  client: RegistryClient,
  reference: string,
  opts: PullOneOptions,
): Promise<{ top: Digest; manifest: ImageManifest }> {
  let fetched = await client.getManifest(reference, opts.signal);
  const top = fetched.digest;
  for (let depth = 0; ; depth++) {
    const doc = parseManifestOrIndex(
      fetched.bytes,
      fetched.mediaType ? { expectedMediaType: fetched.mediaType } : {},
    );
    if (doc.kind === "manifest") return { top, manifest: doc.manifest };
    if (depth >= MAX_INDEX_DEPTH) throw invalidArgument(`${client.name}: indexes nested too deeply`);
    const chosen: Descriptor | undefined = selectManifest(doc.index, opts.wanted);
    if (!chosen) {
      throw notFound(`no matching manifest for ${formatPlatform(opts.wanted)} in the manifest list entries`);
    }
    fetched = await client.getManifest(chosen.digest, opts.signal);
    if (fetched.bytes.byteLength !== chosen.size) {
      throw invalidArgument(
        `manifest ${chosen.digest}: ${fetched.bytes.byteLength} bytes, the index says ${chosen.size}`,
      );
    }
    if (!fetched.mediaType) fetched = { ...fetched, mediaType: chosen.mediaType };
  }
}

async function pullOne(
  store: ImageStore,
  ref: Reference,
  opts: PullOneOptions,
): Promise<{ digest: Digest; newer: boolean }> {
  const { queue } = opts;
  const client = clientFor(ref, { auth: opts.auth, context: opts, authorizer: opts.authorizer });
  const reference = ref.digest ?? ref.tag ?? "latest";
  const { top, manifest } = await withAccessMessage(ref, () => resolveManifest(client, reference, opts));
  // Once the manifest is there, as dockerd: a pull that cannot start is an error response, not
  // a stream. Docker names the repository by its path (`library/busybox`).
  queue.push({ status: `Pulling from ${ref.path}`, id: reference });
  if (!isImageConfigMediaType(manifest.config.mediaType)) {
    throw invalidArgument(
      `${familiarString(ref)}: not an image (config media type ${manifest.config.mediaType})`,
    );
  }
  // Every layer type is checked before a byte is downloaded.
  const compressions = manifest.layers.map((l) => layerCompression(l.mediaType));
  const configBytes = await client.readBlob(manifest.config, MAX_DOCUMENT_BYTES, opts.signal);
  const config = parseImageConfig(configBytes);
  checkLayerCount(manifest, config);
  if (opts.platform) {
    const actual: Platform = {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    };
    if (!matchPlatform(opts.wanted, actual)) {
      throw notFound(
        `image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${formatPlatform(opts.wanted)}, actual: ${formatPlatform(actual)}`,
      );
    }
  }
  const imageId = sha256Digest(configBytes);
  const existing = store.meta.getImage(imageId);
  const diffIds = config.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  const newBlobs: Digest[] = [];
  const ingested: IngestedLayer[] = [];
  const quiet = existing !== undefined;
  // What this pull finds or writes is leased until the image is recorded (metadata/leases.ts).
  const lease = store.leases.create();
  try {
    const layers = await mapLimit(
      manifest.layers,
      opts.concurrency ?? DEFAULT_PULL_CONCURRENCY,
      async (desc, i) => {
        const layer = await pullLayer(store, client, {
          desc,
          compression: compressions[i] ?? "gzip",
          diffId: diffIds[i] as Digest,
          parentChainId: i === 0 ? undefined : chains[i - 1],
          chainId: chains[i] as Digest,
          emit: (e) => {
            if (!quiet) queue.push(e);
          },
          newBlobs,
          lease,
          signal: opts.signal,
        });
        ingested.push(layer);
        return layer;
      },
    );
    const tags: Reference[] = [{ ...trimReference(ref), digest: top }];
    if (ref.tag !== undefined && ref.digest === undefined) tags.unshift(ref);
    const before = ref.tag !== undefined ? store.meta.getRef(refName(ref)) : undefined;
    await store.createImage({ config, configBytes, layers, tags, lease });
    store.discardBlobs(newBlobs, lease);
    store.emitImageEvent("pull", familiarString(ref), familiarName(ref), imageId);
    return { digest: top, newer: !(existing && (ref.tag === undefined || before?.imageId === imageId)) };
  } catch (err) {
    await store.discardLayers(ingested, lease);
    store.discardBlobs(newBlobs, lease);
    throw err;
  } finally {
    lease.release();
  }
}

function refName(ref: Reference): string {
  return `${ref.domain}/${ref.path}${ref.tag !== undefined ? `:${ref.tag}` : ""}`;
}

interface LayerJob {
  readonly desc: Descriptor;
  readonly compression: "none" | "gzip" | "zstd";
  readonly diffId: Digest;
  readonly parentChainId: Digest | undefined;
  readonly chainId: Digest;
  readonly emit: (e: ProgressEvent) => void;
  /** Blobs this pull committed (removed at the end unless a record uses them). */
  readonly newBlobs: Digest[];
  readonly lease: Lease;
  readonly signal: AbortSignal | undefined;
}

/** `from.pipe(to)`, with errors of `from` failing `to`. */
function chain(from: Readable, to: Transform): Transform {
  from.on("error", (err) => to.destroy(err));
  return from.pipe(to);
}

async function pullLayer(store: ImageStore, client: RegistryClient, job: LayerJob): Promise<IngestedLayer> {
  const { desc, emit } = job;
  const id = shortId(desc.digest);
  // Unpacked and recorded already (Docker's "Already exists"); leased before it is looked at.
  const known = await store.knownLayer(job.diffId, job.chainId, job.lease);
  if (known) {
    emit(layerEvent(id, "Already exists"));
    return known;
  }
  emit(layerEvent(id, "Pulling fs layer"));
  job.lease.add("blob", [desc.digest]);
  if (!(await store.content.hasBlob(desc.digest))) {
    await downloadLayerBlob(store, client, job, id);
    job.newBlobs.push(desc.digest);
    emit(layerEvent(id, "Verifying Checksum"));
  }
  emit(layerEvent(id, "Download complete"));
  const report = throttled((n) => emit(progressEvent(id, "Extracting", n, desc.size)), desc.size);
  let source: Readable = chain(store.content.openBlob(desc.digest), countingStream(report));
  if (job.compression === "zstd") source = chain(source, zstdDecompressStream());
  const layer = await store.ingestLayer(source, {
    expectedDiffId: job.diffId,
    ...(job.parentChainId ? { parentChainId: job.parentChainId } : {}),
    storedBlob: { digest: desc.digest, size: desc.size },
    lease: job.lease,
    ...(job.signal ? { signal: job.signal } : {}),
  });
  emit(layerEvent(id, "Pull complete"));
  return { ...layer, mediaType: layerMediaType(job.compression, "oci") };
}

/** Attempts of one layer's download within one pull (each resuming where the last one ended). */
const DOWNLOAD_ATTEMPTS = 3;

/**
 * Downloads a layer blob into the content store. Through the store's resumable ingest when it
 * has one: what an interrupted pull (a network error, Ctrl-C, kill -9) left of this blob is
 * continued with a `Range` request, from the bytes kept and re-hashed; a registry that answers
 * with the whole blob (200) starts it over, as Docker always does (moby#26146). A network error
 * half-way resumes at once, up to DOWNLOAD_ATTEMPTS times. The blob becomes visible only when
 * the whole of it hashes to its digest; a kept prefix that does not (a torn write) is dropped and
 * the download runs once more from byte 0. When another process holds the ingest (pulling the
 * same layer), the download is a private write, as before.
 */
async function downloadLayerBlob(
  store: ImageStore,
  client: RegistryClient,
  job: LayerJob,
  id: string,
): Promise<void> {
  const { desc, emit, signal } = job;
  const progress = throttled((n) => emit(progressEvent(id, "Downloading", n, desc.size)), desc.size);
  const attempt = await store.content.withResumableIngest?.(
    { expected: desc.digest, size: desc.size },
    async (ingest) => {
      let restarted = false;
      for (let tries = 1; ; tries++) {
        const from = ingest.offset;
        const { stream, offset } = await client.openBlobFrom(desc, from, {
          onBytes: progress,
          ...(signal ? { signal } : {}),
        });
        if (offset < from) await ingest.reset();
        else if (offset > 0) {
          emit(layerEvent(id, `Resuming download at ${humanSize(offset)} of ${humanSize(desc.size)}`));
          emit(progressEvent(id, "Downloading", offset, desc.size));
        }
        try {
          await ingest.append(stream, signal ? { signal } : {});
        } catch (err) {
          stream.destroy();
          if (signal?.aborted || isBerthError(err, "InvalidArgument") || tries >= DOWNLOAD_ATTEMPTS)
            throw err;
          continue;
        }
        try {
          await ingest.commit({ claim: (d) => job.lease.add("blob", [d]) });
          return;
        } catch (err) {
          if (!isBerthError(err, "InvalidArgument")) throw err;
          // The kept bytes and the registry's do not make the blob: drop them, start over once.
          if (restarted || offset === 0) throw verificationFailed(desc.digest, err.message);
          restarted = true;
        }
      }
    },
  );
  if (attempt?.acquired) return;
  const stream = await client.openBlob(desc, { onBytes: progress, ...(signal ? { signal } : {}) });
  await store.content.writeBlob(stream, {
    expected: desc.digest,
    size: desc.size,
    ...(signal ? { signal } : {}),
  });
}
