/**
 * The image store: images as records over content and snapshots. Everything that makes an
 * image (import, load, later pull, commit and build) goes through `ingestLayer` and
 * `createImage`, so every image is verified, unpacked and recorded the same way.
 *
 * Crash safety: blobs are committed by the content store (verified before visible), snapshots by
 * the snapshotter (renamed into place), and the records of an image in one transaction at the
 * end. A crash before that transaction leaves only unreferenced blobs and snapshots, which
 * `collectGarbage` removes; no record ever points at missing content.
 * Every image record, image layer snapshot and reference is written through here; no service
 * makes an image another way.
 */

import { PassThrough, type Readable } from "node:stream";
import { conflict, invalidArgument, notFound } from "../base/errors.js";
import type { ContentStore } from "../content/content-store.js";
import { applyLayer } from "../diff/apply.js";
import type { MetadataDb } from "../metadata/db.js";
import { type EventSink, NO_EVENTS } from "../metadata/events.js";
import { type ImageLayerRecord, ImageMetadata, type ImageRecord } from "../metadata/images.js";
import { type Lease, LeaseManager } from "../metadata/leases.js";
import { type Digest, sha256Digest } from "../oci/digest.js";
import {
  encodeImageConfig,
  encodeManifest,
  type ImageConfig,
  type ImageManifest,
  MAX_DOCUMENT_BYTES,
  MEDIA_TYPES,
  parseImageConfig,
  parseManifest,
} from "../oci/image.js";
import { checkDocumentSize, checkLayerCountLimit } from "../oci/limits.js";
import { parseImageArgument, type Reference, referenceString } from "../oci/reference.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";

/** Unrecorded content younger than this may belong to another process's in-flight work. */
const SWEEP_MIN_AGE_MS = 60 * 60 * 1000;

export interface ImageStoreDeps {
  readonly db: MetadataDb;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  readonly now?: () => number;
  /** Where image events (pull, tag, delete, …) go; none by default. */
  readonly events?: EventSink;
}

/** A layer as unpacked: its diffID, the chainID it was stored under and its blob. */
export interface IngestedLayer {
  readonly diffId: Digest;
  readonly chainId: Digest;
  readonly blobDigest: Digest;
  readonly blobSize: number;
  readonly mediaType: string;
  /** Bytes of the files in the layer. */
  readonly size: number;
  /** Bytes of the uncompressed tar. */
  readonly tarSize: number;
  /** Whether this ingest created the snapshot (false when it existed already). */
  readonly created: boolean;
}

/** What a layer's blob is: its digest, size and media type (a manifest's layer descriptor). */
interface LayerBlob {
  readonly blobDigest: Digest;
  readonly blobSize: number;
  readonly mediaType: string;
}

/**
 * The one way an IngestedLayer is made: its identity, its blob, and its snapshot's sizes (files
 * and tar), whether it was just unpacked (`ingestLayer`) or found recorded (`knownLayer`,
 * `storedLayers`).
 */
function ingestedLayer(
  ids: { readonly diffId: Digest; readonly chainId: Digest },
  blob: LayerBlob,
  sizes: { readonly size: number; readonly tarSize: number },
  created: boolean,
): IngestedLayer {
  return {
    diffId: ids.diffId,
    chainId: ids.chainId,
    blobDigest: blob.blobDigest,
    blobSize: blob.blobSize,
    mediaType: blob.mediaType,
    size: sizes.size,
    tarSize: sizes.tarSize,
    created,
  };
}

export interface IngestLayerOptions {
  /** The chainID of the layers below, undefined for the bottom layer. */
  readonly parentChainId?: Digest;
  /** The diffID the config promises; a different one fails the ingest. */
  readonly expectedDiffId?: Digest;
  /** When the layer's bytes are already a stored blob, skip writing them again. */
  readonly storedBlob?: { readonly digest: Digest; readonly size: number };
  /** The operation's lease: the blob and snapshot are added to it before they are looked for or published. */
  readonly lease?: Lease;
  readonly signal?: AbortSignal;
}

export interface CreateImageOptions {
  readonly config: ImageConfig;
  /** The config's exact bytes (the image ID is their digest); canonical JSON of `config` if absent. */
  readonly configBytes?: Uint8Array;
  readonly layers: readonly IngestedLayer[];
  readonly parentId?: string;
  /** Full references to point at the new image. */
  readonly tags?: readonly Reference[];
  /** The operation's lease (config and manifest blobs join it); a lease of its own otherwise. */
  readonly lease?: Lease;
}

export interface CreatedImage {
  readonly id: Digest;
  /** For each tag that pointed at another image before: that image's ID. */
  readonly replaced: ReadonlyArray<{ readonly reference: string; readonly previous: Digest }>;
}

export function chainIdOf(parent: Digest | undefined, diffId: Digest): Digest {
  return parent === undefined ? diffId : sha256Digest(`${parent} ${diffId}`);
}

export class ImageStore {
  readonly meta: ImageMetadata;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  readonly now: () => number;
  readonly events: EventSink;
  readonly leases: LeaseManager;

  constructor(deps: ImageStoreDeps) {
    this.meta = new ImageMetadata(deps.db);
    this.leases = new LeaseManager(deps.db);
    this.events = deps.events ?? NO_EVENTS;
    this.content = deps.content;
    this.snapshots = deps.snapshots;
    this.now = deps.now ?? Date.now;
  }

  get db(): MetadataDb {
    return this.meta.db;
  }

  /**
   * Runs `fn` under a new lease, released when it settles: what `fn` writes or finds through
   * the store stays safe from garbage collection until its records exist.
   */
  async withLease<T>(fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = this.leases.create();
    try {
      return await fn(lease);
    } finally {
      lease.release();
    }
  }

  /**
   * Stores a layer's bytes as a blob and unpacks them into a snapshot, in one pass over the
   * stream. The diffID is computed while unpacking; the snapshot is published under its
   * chainID only when the whole layer was read and verified.
   */
  async ingestLayer(source: Readable, opts: IngestLayerOptions = {}): Promise<IngestedLayer> {
    if (opts.expectedDiffId !== undefined) {
      const chainId = chainIdOf(opts.parentChainId, opts.expectedDiffId);
      const known = await this.knownLayer(opts.expectedDiffId, chainId, opts.lease);
      if (known) {
        source.destroy();
        return known;
      }
    }
    const prepared = await this.snapshots.prepare();
    const toApply = new PassThrough({ highWaterMark: 1 << 20 });
    source.on("error", (err) => toApply.destroy(err));
    source.pipe(toApply);
    let blobWrite: Promise<{ digest: Digest; size: number }> | undefined;
    if (!opts.storedBlob) {
      const toBlob = new PassThrough({ highWaterMark: 1 << 20 });
      source.on("error", (err) => toBlob.destroy(err));
      source.pipe(toBlob);
      const { lease } = opts;
      blobWrite = this.content.writeBlob(toBlob, {
        signal: opts.signal,
        ...(lease ? { claim: (d: Digest) => lease.add("blob", [d]) } : {}),
      });
    }
    const applying = applyLayer(toApply, prepared.fs, { signal: opts.signal });
    // When one side fails, the other must not wait for bytes that will never come.
    const stop = (err: unknown) => source.destroy(err instanceof Error ? err : new Error(String(err)));
    applying.catch(stop);
    blobWrite?.catch(stop);
    const [applied, written] = await Promise.allSettled([
      applying,
      blobWrite ?? Promise.resolve(opts.storedBlob),
    ]);
    try {
      if (applied.status === "rejected") throw applied.reason;
      if (written.status === "rejected") throw written.reason;
      const blob = written.value;
      if (!blob) throw invalidArgument("layer has no blob");
      if (opts.expectedDiffId !== undefined && applied.value.diffId !== opts.expectedDiffId) {
        throw invalidArgument(
          `layer verification failed: wrong diff id ${applied.value.diffId} calculated on extraction, expected ${opts.expectedDiffId}`,
        );
      }
      const chainId = chainIdOf(opts.parentChainId, applied.value.diffId);
      opts.lease?.add("snapshot", [chainId]);
      const created = await this.snapshots.commit(prepared, chainId);
      return ingestedLayer(
        { diffId: applied.value.diffId, chainId },
        {
          blobDigest: blob.digest,
          blobSize: blob.size,
          mediaType: blob.digest === applied.value.diffId ? MEDIA_TYPES.ociLayer : MEDIA_TYPES.ociLayerGzip,
        },
        { size: applied.value.unpackedBytes, tarSize: applied.value.size },
        created,
      );
    } catch (err) {
      source.destroy();
      toApply.destroy();
      await this.snapshots.abort(prepared);
      // The blob may have been stored in full before extraction failed: a blob no record knows
      // must not stay behind from bad input.
      if (written.status === "fulfilled" && written.value && !opts.storedBlob) {
        this.discardBlobs([written.value.digest], opts.lease);
      }
      throw err;
    }
  }

  /**
   * Deletes blobs that no record refers to and no other lease than `own` holds (content written
   * for work that failed, or not needed after all). Decided and done in one transaction.
   */
  discardBlobs(digests: readonly Digest[], own?: Lease): void {
    if (digests.length === 0) return;
    this.db.write(() => {
      const referenced = this.meta.referencedBlobs();
      const leased = this.leases.leased("blob", own);
      for (const d of digests) if (!referenced.has(d) && !leased.has(d)) this.content.deleteBlobSync(d);
    });
  }

  /** Undoes ingested layers that never became part of an image (unless another lease holds them). */
  async discardLayers(layers: readonly IngestedLayer[], own?: Lease): Promise<void> {
    const aside = this.db.write(() => {
      const leased = this.leases.leased("snapshot", own);
      const out: string[] = [];
      for (const l of layers) {
        if (!l.created || this.meta.getSnapshot(l.chainId) || leased.has(l.chainId)) continue;
        const dir = this.snapshots.setAsideSync(l.chainId);
        if (dir) out.push(dir);
      }
      return out;
    });
    this.discardBlobs(
      layers.map((l) => l.blobDigest),
      own,
    );
    for (const dir of aside) await this.snapshots.purge(dir);
  }

  /**
   * A layer already unpacked and recorded under this chainID, if any — its record, its snapshot
   * directory and its blob all present (ingest reuses it; the build cache's hits are checked here).
   */
  async knownLayer(diffId: Digest, chainId: Digest, lease?: Lease): Promise<IngestedLayer | undefined> {
    // Leased before looking, so that what is found stays (see metadata/leases.ts).
    lease?.add("snapshot", [chainId]);
    const snap = this.meta.getSnapshot(chainId);
    const blob = this.meta.layerBlobs(diffId)[0];
    if (!snap || !blob) return undefined;
    lease?.add("blob", [blob.blobDigest]);
    if (!(await this.snapshots.exists(chainId)) || !(await this.content.hasBlob(blob.blobDigest)))
      return undefined;
    return ingestedLayer({ diffId, chainId }, blob, snap, false);
  }

  /** Writes config and manifest blobs and records the image, its layers and tags atomically. */
  async createImage(opts: CreateImageOptions): Promise<CreatedImage> {
    if (!opts.lease) return this.withLease((lease) => this.createImage({ ...opts, lease }));
    const { lease } = opts;
    const claim = (d: Digest) => lease.add("blob", [d]);
    const configBytes = opts.configBytes ?? encodeImageConfig(opts.config);
    // The bounds every reader applies, checked before anything is written (oci/limits.ts).
    checkLayerCountLimit(opts.layers.length);
    checkDocumentSize(
      "image config",
      configBytes.byteLength,
      "its labels, environment, history and other settings together",
    );
    const config = await this.content.writeBlob(Buffer.from(configBytes), { claim });
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
      layers: opts.layers.map((l) => ({ mediaType: l.mediaType, digest: l.blobDigest, size: l.blobSize })),
    };
    const manifestBytes = encodeManifest(manifest);
    checkDocumentSize("image manifest", manifestBytes.byteLength);
    const manifestBlob = await this.content.writeBlob(Buffer.from(manifestBytes), { claim });
    const id = config.digest;
    const now = this.now();
    const replaced: Array<{ reference: string; previous: Digest }> = [];
    const layerRecords: ImageLayerRecord[] = opts.layers.map((l) => ({
      diffId: l.diffId,
      chainId: l.chainId,
    }));
    this.db.write(() => {
      let parentChain = "";
      for (const l of opts.layers) {
        this.meta.putSnapshot({
          chainId: l.chainId,
          parent: parentChain,
          diffId: l.diffId,
          size: l.size,
          tarSize: l.tarSize,
          createdAt: now,
        });
        this.meta.putLayerBlob({
          diffId: l.diffId,
          blobDigest: l.blobDigest,
          mediaType: l.mediaType,
          blobSize: l.blobSize,
        });
        parentChain = l.chainId;
      }
      this.meta.putImage(
        {
          id,
          manifestDigest: manifestBlob.digest,
          parentId: opts.parentId ?? "",
          created: opts.config.created ?? "",
          size: opts.layers.reduce((s, l) => s + l.size, 0),
          labels: opts.config.config?.Labels ?? {},
          layers: layerRecords,
        },
        now,
      );
      for (const tag of opts.tags ?? []) {
        const name = referenceString(tag);
        const previous = this.meta.setRef(name, id, tag.digest ? "digest" : "tag", now);
        if (previous) replaced.push({ reference: name, previous });
      }
    });
    return { id, replaced };
  }

  /**
   * The stored layers of an image, bottom first, as `ingestLayer` describes them: blob digest,
   * size and media type from the image's manifest (or, for an image stored without one, the
   * first recorded blob of the diffID) and the unpacked snapshot's sizes. For reuse as the
   * parent layers of a new image (commit, build); `created` is false for all of them.
   */
  async storedLayers(imageId: Digest): Promise<IngestedLayer[]> {
    const rec = this.meta.getImage(imageId);
    if (!rec) throw notFound(`No such image: ${imageId}`);
    const manifest = rec.manifestDigest
      ? parseManifest(await this.content.readBlob(rec.manifestDigest, { maxBytes: MAX_DOCUMENT_BYTES }))
      : undefined;
    return rec.layers.map((l, i) => {
      const snap = this.meta.getSnapshot(l.chainId);
      const desc = manifest?.layers[i];
      const blob: LayerBlob | undefined = desc
        ? { blobDigest: desc.digest, blobSize: desc.size, mediaType: desc.mediaType }
        : this.meta.layerBlobs(l.diffId)[0];
      if (!snap || !blob) throw notFound(`layer ${l.diffId} of image ${imageId} is missing`);
      return ingestedLayer(l, blob, snap, false);
    });
  }

  /**
   * Leases stored layers that new work builds on (a commit's or a build's parent layers), then
   * checks that they are still there: NotFound when a removal took them first.
   */
  async leaseLayers(layers: readonly IngestedLayer[], lease: Lease): Promise<void> {
    lease.add(
      "snapshot",
      layers.map((l) => l.chainId),
    );
    lease.add(
      "blob",
      layers.map((l) => l.blobDigest),
    );
    for (const l of layers) {
      if (!(await this.snapshots.exists(l.chainId)) || !(await this.content.hasBlob(l.blobDigest)))
        throw notFound(`layer ${l.diffId} was removed meanwhile`);
    }
  }

  /** The parsed config of a stored image. */
  async config(id: Digest): Promise<ImageConfig> {
    return parseImageConfig(await this.content.readBlob(id, { maxBytes: MAX_DOCUMENT_BYTES }));
  }

  /**
   * Finds an image by reference (`busybox`, `busybox:1`, `name@sha256:…`), by full ID
   * (`sha256:…` or 64 hex) or by an unambiguous ID prefix, the way Docker resolves image names
   * (`parseImageArgument`). `reference` is the full reference it was found by, if any.
   */
  lookup(name: string): { readonly rec: ImageRecord; readonly reference?: string } | undefined {
    const arg = parseImageArgument(name);
    if (arg.kind === "id") {
      const rec = this.meta.getImage(arg.id);
      return rec ? { rec } : undefined;
    }
    const refName = referenceString(arg.reference);
    const ref = this.meta.getRef(refName);
    const byRef = ref ? this.meta.getImage(ref.imageId) : undefined;
    if (byRef) return { rec: byRef, reference: refName };
    if (arg.idPrefix === undefined) return undefined;
    const ids = this.meta.findIdsByPrefix(arg.idPrefix);
    if (ids.length > 1) throw conflict(`multiple IDs found with provided prefix: ${arg.idPrefix}`);
    const rec = ids[0] ? this.meta.getImage(ids[0]) : undefined;
    return rec ? { rec } : undefined;
  }

  /** The image `name` resolves to (see `lookup`); NotFound as Docker words it otherwise. */
  resolve(name: string): ImageRecord {
    const found = this.lookup(name);
    if (!found) throw notFound(`No such image: ${name}`);
    return found.rec;
  }

  /**
   * Removes snapshots and blobs that no record refers to any more and no live lease holds
   * (leases of dead processes are deleted first). The decision and the disappearance (blobs
   * unlinked, snapshots renamed aside) happen in one transaction, so that a lease taken
   * concurrently either comes first and is honoured, or comes after and finds the content gone.
   * With `sweep`, also old blobs and snapshots on disk that no record knows (left by a crash).
   * Returns the removed snapshot chainIDs and their unpacked size.
   */
  async collectGarbage(opts: { sweep?: boolean } = {}): Promise<{ snapshots: Digest[]; bytes: number }> {
    const cutoff = this.now() - SWEEP_MIN_AGE_MS;
    const candidates: Digest[] = [];
    const unknownSnapshots: Digest[] = [];
    if (opts.sweep) {
      // Listed outside the transaction (a directory walk); re-checked inside it.
      for await (const b of this.content.listBlobs()) {
        const st = await this.content.statBlob(b.digest);
        if (st?.modifiedMs !== undefined && st.modifiedMs < cutoff) candidates.push(b.digest);
      }
      for (const hex of await this.snapshots.listOnDisk({ modifiedBefore: cutoff })) {
        unknownSnapshots.push(`sha256:${hex}` as Digest);
      }
    }
    const { removed, aside } = this.db.write(() => {
      this.leases.reapStale();
      const leasedSnapshots = this.leases.leased("snapshot");
      const leasedBlobs = this.leases.leased("blob");
      const snaps = this.meta.unreferencedSnapshots().filter((s) => !leasedSnapshots.has(s.chainId));
      for (const s of snaps) this.meta.deleteSnapshot(s.chainId);
      const layerBlobs = this.meta.unreferencedLayerBlobs().filter((b) => !leasedBlobs.has(b.blobDigest));
      for (const b of layerBlobs) this.meta.deleteLayerBlobs(b.diffId);
      const referenced = this.meta.referencedBlobs();
      const aside: string[] = [];
      for (const s of snaps) {
        const dir = this.snapshots.setAsideSync(s.chainId);
        if (dir) aside.push(dir);
      }
      for (const b of layerBlobs) {
        if (!referenced.has(b.blobDigest)) this.content.deleteBlobSync(b.blobDigest);
      }
      // Blobs and snapshots that no record knows: left by a crash between writing content and
      // recording it. Only old ones go, and none that a lease holds.
      for (const d of candidates) {
        if (!referenced.has(d) && !leasedBlobs.has(d)) this.content.deleteBlobSync(d);
      }
      const known = new Set(this.meta.listSnapshots().map((s) => s.chainId));
      for (const c of unknownSnapshots) {
        if (known.has(c) || leasedSnapshots.has(c)) continue;
        const dir = this.snapshots.setAsideSync(c);
        if (dir) aside.push(dir);
      }
      return { removed: snaps, aside };
    });
    for (const dir of aside) await this.snapshots.purge(dir);
    return { snapshots: removed.map((s) => s.chainId), bytes: removed.reduce((n, s) => n + s.size, 0) };
  }

  /**
   * Records an image event as Docker's daemon logs it: `actorId` is the reference or image ID
   * the action was about, the attributes the image's labels (when `imageId` is stored) and `name`.
   */
  emitImageEvent(action: string, actorId: string, name: string, imageId?: Digest): void {
    const labels = imageId ? (this.meta.getImage(imageId)?.labels ?? {}) : {};
    this.events.emit("image", action, { ID: actorId, Attributes: { ...labels, name } });
  }

  /** Image config blobs and manifests referenced by an image record. */
  imageBlobs(rec: ImageRecord): Digest[] {
    return rec.manifestDigest ? [rec.id, rec.manifestDigest] : [rec.id];
  }
}
