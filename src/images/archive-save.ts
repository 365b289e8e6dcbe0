/**
 * `save`: images as one tar that is at once a docker-archive (manifest.json, repositories) and an
 * OCI image layout (oci-layout, index.json, blobs/sha256/…), as Docker 25+ writes it. Layers go
 * out uncompressed, named by diffID, so the archive's digests match the configs' diff_ids.
 * It only reads the store; it never changes an image.
 */
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { pack } from "tar-stream";
import { internal, notFound } from "../base/errors.js";
import type { ImageArchiveFormat, ImageSaveOptions } from "../engine/types.js";
import type { ImageRecord } from "../metadata/images.js";
import { type Digest, digestHex, sha256Digest } from "../oci/digest.js";
import { encodeManifest, type ImageManifest, MEDIA_TYPES } from "../oci/image.js";
import { familiarString, parseNormalizedNamed, type Reference, referenceString } from "../oci/reference.js";
import type { ImageStore } from "./store.js";

interface SavedImage {
  readonly rec: ImageRecord;
  /** Full references to record for it in the archive. */
  readonly refs: Reference[];
}

/** Resolves every name before a byte is written: a missing image fails the save up front. */
export function resolveForSave(store: ImageStore, names: readonly string[]): SavedImage[] {
  const byId = new Map<string, SavedImage>();
  for (const name of names) {
    let ref: Reference | undefined;
    try {
      ref = parseNormalizedNamed(name);
    } catch {
      ref = undefined;
    }
    if (ref && !ref.tag && !ref.digest) {
      // A bare repository name saves every tag of that repository, as Docker does.
      const repo = `${ref.domain}/${ref.path}`;
      const tags = store.meta.allRefs().filter((r) => r.kind === "tag" && r.name.startsWith(`${repo}:`));
      if (tags.length > 0) {
        for (const t of tags) add(t.imageId, parseNormalizedNamed(t.name));
        continue;
      }
    }
    const found = store.lookup(name);
    if (!found) throw notFound(`No such image: ${name}`);
    // Saved by a tag: the archive names it so. Saved by ID (or digest): untagged, as Docker does.
    const byTag = found.reference ? parseNormalizedNamed(found.reference) : undefined;
    add(found.rec.id, byTag && !byTag.digest ? byTag : undefined);
  }
  return [...byId.values()];

  function add(id: string, ref: Reference | undefined) {
    let entry = byId.get(id);
    if (!entry) {
      const rec = store.meta.getImage(id);
      if (!rec) throw notFound(`No such image: ${id}`);
      entry = { rec, refs: [] };
      byId.set(id, entry);
    }
    if (ref && !ref.digest && !entry.refs.some((r) => referenceString(r) === referenceString(ref)))
      entry.refs.push(ref);
  }
}

const TAR_MTIME = new Date(0);

/**
 * The images as one archive (docker-archive or oci-archive), streamed as it is written: each
 * blob once, then the index and manifest files naming them. One function because the tar
 * writer, the set of blobs already written and the output stream are shared by every step, in
 * the order the archive must have.
 */
export function saveImages(
  store: ImageStore,
  images: readonly SavedImage[],
  opts: ImageSaveOptions = {},
): Readable {
  const format: ImageArchiveFormat = opts.format ?? "docker-archive";
  const tar = pack();
  const written = new Set<string>();
  const out = new PassThrough();
  const addEntry = (name: string, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      tar.entry(
        { name, size: body.byteLength, mode: 0o644, mtime: TAR_MTIME, uid: 0, gid: 0 },
        body,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  const addStream = async (name: string, size: number, source: Readable) => {
    const entry = tar.entry({ name, size, mode: 0o644, mtime: TAR_MTIME, uid: 0, gid: 0 });
    await pipeline(source, entry);
  };

  const produce = async () => {
    for (const dir of ["blobs", "blobs/sha256"]) {
      await new Promise<void>((resolve, reject) =>
        tar.entry({ name: dir, type: "directory", mode: 0o755, mtime: TAR_MTIME, uid: 0, gid: 0 }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    }
    const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
    const indexEntries: Array<Record<string, unknown>> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { rec, refs } of images) {
      const configBytes = await store.content.readBlob(rec.id, { maxBytes: 4 * 1048 * 1048 });
      if (!written.has(rec.id)) {
        await addEntry(`blobs/sha256/${digestHex(rec.id)}`, configBytes);
        written.add(rec.id);
      }
      const layerDescs: Array<{ mediaType: string; digest: Digest; size: number }> = [];
      for (const layer of rec.layers) {
        const snap = store.meta.getSnapshot(layer.chainId);
        const blob = store.meta.layerBlobs(layer.diffId)[0];
        if (!snap || !blob) throw internal(`image ${rec.id} is missing layer ${layer.diffId}`);
        layerDescs.push({ mediaType: MEDIA_TYPES.ociLayer, digest: layer.diffId, size: snap.tarSize });
        if (written.has(layer.diffId)) continue;
        const raw = store.content.openBlob(blob.blobDigest);
        const body = blob.blobDigest === layer.diffId ? raw : raw.pipe(createGunzip());
        raw.on("error", (err) => body.destroy(err));
        await addStream(`blobs/sha256/${digestHex(layer.diffId)}`, snap.tarSize, body);
        written.add(layer.diffId);
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: rec.id, size: configBytes.byteLength },
        layers: layerDescs,
      };
      const manifestBytes = Buffer.from(encodeManifest(manifest));
      const manifestDigest = sha256Digest(manifestBytes);
      if (!written.has(manifestDigest)) {
        await addEntry(`blobs/sha256/${digestHex(manifestDigest)}`, manifestBytes);
        written.add(manifestDigest);
      }
      const desc = {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: manifestDigest,
        size: manifestBytes.byteLength,
      };
      if (refs.length === 0) indexEntries.push(desc);
      for (const ref of refs) {
        indexEntries.push({
          ...desc,
          annotations: {
            "io.containerd.image.name": referenceString(ref),
            "org.opencontainers.image.ref.name": ref.tag ?? "latest",
          },
        });
        const repo = familiarString({ ...ref, tag: undefined, digest: undefined });
        const top = rec.layers[rec.layers.length - 1];
        if (top && ref.tag)
          repositories[repo] = { ...(repositories[repo] ?? {}), [ref.tag]: digestHex(top.diffId) };
      }
      dockerManifest.push({
        Config: `blobs/sha256/${digestHex(rec.id)}`,
        RepoTags: refs.length > 0 ? refs.map((r) => familiarString(r)) : null,
        Layers: rec.layers.map((l) => `blobs/sha256/${digestHex(l.diffId)}`),
      });
    }
    const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: indexEntries };
    await addEntry("index.json", Buffer.from(JSON.stringify(index)));
    if (format === "docker-archive") {
      await addEntry("manifest.json", Buffer.from(JSON.stringify(dockerManifest)));
      if (Object.keys(repositories).length > 0)
        await addEntry("repositories", Buffer.from(JSON.stringify(repositories)));
    }
    await addEntry("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
    tar.finalize();
    for (const { rec } of images) store.emitImageEvent("save", rec.id, rec.id, rec.id);
  };
  tar.pipe(out);
  produce().catch((err: unknown) => {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
    tar.destroy();
  });
  return out;
}
