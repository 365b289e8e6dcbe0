/**
 * `load`: images from a docker-archive (manifest.json) or an OCI image layout (index.json) in a
 * tar stream. The archive is untrusted: entries are read once, in any order; small ones are kept
 * in memory, large ones go to the content store as they stream (blobs/sha256/<hex> entries are
 * verified against their names). Every layer is checked against the config's diff_ids while it is
 * unpacked. Either every image of the archive is loaded or, on any error, nothing is.
 */
import { posix } from "node:path";
import { Readable } from "node:stream";
import { errorMessage, invalidArgument, isBerthError } from "../base/errors.js";
import type { HostPlatform } from "../config/host.js";
import type { ByteSource, ImageLoadOptions, ImageLoadResult } from "../engine/types.js";
import type { Lease } from "../metadata/leases.js";
import { type Digest, parseDigest, sha256Digest } from "../oci/digest.js";
import {
  type ImageConfig,
  MEDIA_TYPES,
  parseImageConfig,
  parseIndex,
  parseManifest,
  selectManifest,
} from "../oci/image.js";
import { MAX_ARCHIVE_JSON_BYTES } from "../oci/limits.js";
import { type Platform, parsePlatform } from "../oci/platform.js";
import { parseNormalizedNamed, type Reference, referenceString, withDefaultTag } from "../oci/reference.js";
import { readTar } from "../oci/tar-reader.js";
import type { ImageStore, IngestedLayer } from "./store.js";
import { progressEvent, throttled } from "./transfer.js";

/** Entries up to this size stay in memory; larger ones stream into the content store. */
const IN_MEMORY_LIMIT = 1 << 20;
const MAX_INDEX_DEPTH = 4;

type Entry =
  | { kind: "memory"; data: Buffer }
  | { kind: "blob"; digest: Digest; size: number }
  | { kind: "link"; target: string };

/** What a load is asked for, with the platform of this host. */
type LoadOptions = ImageLoadOptions & { hostPlatform: HostPlatform };

/** One load's archive as read: its entries, and the blobs it stored under its lease. */
interface LoadedArchive {
  readonly store: ImageStore;
  readonly entries: Map<string, Entry>;
  /** Blobs this load added to the content store (removed again if the load fails). */
  readonly newBlobs: Digest[];
  readonly lease: Lease;
}

interface ImageToLoad {
  readonly configDigest: Digest;
  readonly configBytes: Buffer;
  readonly config: ImageConfig;
  /** Each layer as an archive entry name or a stored blob. */
  readonly layers: ReadonlyArray<{ blob: { digest: Digest; size: number } }>;
  readonly tags: Reference[];
}

function cleanName(name: string): string {
  const n = posix.normalize(name.replace(/^\.\/+/, ""));
  if (n.startsWith("../") || n === ".." || posix.isAbsolute(n))
    throw invalidArgument(`invalid archive: entry name ${JSON.stringify(name)} escapes the archive`);
  return n.replace(/\/$/, "");
}

/**
 * A layer's bytes as they are read, reported as dockerd's `Loading layer` progress (id: the
 * short diffID) when the caller asked for progress; the stream itself otherwise. Bytes are
 * pulled only as the reader takes them, so a layer the store already has (its stream destroyed
 * unread) reports nothing.
 */
function withProgress(source: Readable, total: number, diffId: Digest, opts: ImageLoadOptions): Readable {
  const report = opts.onProgress;
  if (!report) return source;
  const id = diffId.replace(/^sha256:/, "").slice(0, 12);
  const tick = throttled((n) => report(progressEvent(id, "Loading layer", n, total)), total);
  async function* counted(): AsyncIterable<Buffer> {
    let current = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      current += chunk.length;
      tick(current);
      yield chunk;
    }
  }
  return Readable.from(counted(), { objectMode: false });
}

export async function loadImages(
  store: ImageStore,
  source: ByteSource,
  opts: LoadOptions,
): Promise<ImageLoadResult & { replaced: Array<{ reference: string; previous: string }> }> {
  // Everything this load writes or finds is leased until its images are recorded.
  return store.withLease((lease) => loadLeased(store, source, lease, opts));
}

async function loadLeased(
  store: ImageStore,
  source: ByteSource,
  lease: Lease,
  opts: LoadOptions,
): Promise<ImageLoadResult & { replaced: Array<{ reference: string; previous: string }> }> {
  const entries = new Map<string, Entry>();
  const newBlobs: Digest[] = [];
  const ingested: IngestedLayer[] = [];
  try {
    await readArchive(store, source, entries, newBlobs, lease, opts.signal);
    const images = await planImages({ store, entries, newBlobs, lease }, opts);
    if (images.length === 0) throw invalidArgument("invalid archive: it holds no image");
    const created: Array<{ image: ImageToLoad; layers: IngestedLayer[] }> = [];
    for (const image of images) {
      const layers: IngestedLayer[] = [];
      let parent: Digest | undefined;
      const diffIds = image.config.rootfs.diff_ids;
      if (diffIds.length !== image.layers.length) {
        throw invalidArgument(
          `invalid archive: image ${image.configDigest} has ${image.layers.length} layers but its config lists ${diffIds.length} diff_ids`,
        );
      }
      for (let i = 0; i < image.layers.length; i++) {
        const { blob } = image.layers[i] as { blob: { digest: Digest; size: number } };
        const source = store.content.openBlob(blob.digest);
        const layer = await store.ingestLayer(withProgress(source, blob.size, diffIds[i] as Digest, opts), {
          parentChainId: parent,
          expectedDiffId: diffIds[i] as Digest,
          storedBlob: blob,
          lease,
          signal: opts.signal,
        });
        ingested.push(layer);
        layers.push(layer);
        parent = layer.chainId;
      }
      created.push({ image, layers });
    }
    const loaded: Array<{ reference?: string; id: string }> = [];
    const replaced: Array<{ reference: string; previous: string }> = [];
    for (const { image, layers } of created) {
      const result = await store.createImage({
        config: image.config,
        configBytes: image.configBytes,
        layers,
        tags: image.tags,
        lease,
      });
      replaced.push(...result.replaced);
      store.emitImageEvent("load", result.id, result.id, result.id);
      if (image.tags.length === 0) loaded.push({ id: result.id });
      for (const t of image.tags) loaded.push({ reference: referenceString(t), id: result.id });
    }
    // Archive entries that turned out not to be needed (layers this store already had).
    store.discardBlobs(newBlobs, lease);
    return { loaded, replaced };
  } catch (err) {
    await store.discardLayers(ingested, lease);
    store.discardBlobs(newBlobs, lease);
    throw err;
  }
}

async function readArchive(
  store: ImageStore,
  source: ByteSource,
  entries: Map<string, Entry>,
  newBlobs: Digest[],
  lease: Lease,
  signal: AbortSignal | undefined,
): Promise<void> {
  let count = 0;
  try {
    for await (const entry of readTar(source, signal ? { signal } : {})) {
      signal?.throwIfAborted();
      if (++count > 100_000) throw invalidArgument("invalid archive: too many entries");
      const header = entry.header;
      const name = cleanName(header.name);
      if (header.type === "symlink" || header.type === "link") {
        const target = header.linkname ?? "";
        const resolved = header.type === "symlink" ? posix.join(posix.dirname(name), target) : target;
        entries.set(name, { kind: "link", target: cleanName(resolved) });
        continue;
      }
      if (header.type !== "file" && header.type !== "contiguous-file") continue;
      const size = header.size ?? 0;
      const expected = blobNameDigest(name);
      if (size <= IN_MEMORY_LIMIT) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk);
        const data = Buffer.concat(chunks);
        if (expected && sha256Digest(data) !== expected) {
          throw invalidArgument(`invalid archive: ${name} does not match its digest`);
        }
        entries.set(name, { kind: "memory", data });
      } else {
        if (expected) lease.add("blob", [expected]);
        const existed = expected ? await store.content.hasBlob(expected) : false;
        let info: { digest: Digest; size: number };
        if (existed && expected) {
          // Already stored (and verified when it was): skip the archive's copy.
          for await (const _ of entry) {
            // drain
          }
          info = { digest: expected, size };
        } else {
          try {
            info = await store.content.writeBlob(Readable.from(entry, { objectMode: false }), {
              size,
              signal,
              claim: (d) => lease.add("blob", [d]),
              ...(expected ? { expected } : {}),
            });
          } catch (err) {
            throw invalidArgument(`invalid archive: ${name}: ${errorMessage(err)}`, err);
          }
          if (!existed) newBlobs.push(info.digest);
        }
        entries.set(name, { kind: "blob", digest: info.digest, size: info.size });
      }
    }
  } catch (err) {
    if (isBerthError(err)) throw err;
    throw invalidArgument(`invalid archive: ${errorMessage(err)}`, err);
  }
}

function blobNameDigest(name: string): Digest | undefined {
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

function lookup(entries: Map<string, Entry>, name: string): Entry | undefined {
  let n = cleanName(name);
  for (let hops = 0; hops < 16; hops++) {
    const e = entries.get(n);
    if (e?.kind !== "link") return e;
    n = e.target;
  }
  throw invalidArgument(`invalid archive: too many links resolving ${name}`);
}

function jsonDocument(entries: Map<string, Entry>, name: string): unknown {
  const e = lookup(entries, name);
  if (!e) return undefined;
  if (e.kind !== "memory" || e.data.byteLength > MAX_ARCHIVE_JSON_BYTES)
    throw invalidArgument(`invalid archive: ${name} is too large`);
  try {
    return JSON.parse(e.data.toString("utf8"));
  } catch (err) {
    throw invalidArgument(`invalid archive: ${name} is not valid JSON: ${errorMessage(err)}`, err);
  }
}

/** Makes an entry a stored blob (small entries are written from memory now). */
async function asBlob(
  { store, entries, newBlobs, lease }: LoadedArchive,
  name: string,
): Promise<{ digest: Digest; size: number }> {
  const e = lookup(entries, name);
  if (!e) throw invalidArgument(`invalid archive: ${name} is referenced but missing`);
  if (e.kind === "blob") return { digest: e.digest, size: e.size };
  if (e.kind !== "memory") throw invalidArgument(`invalid archive: ${name} is not a file`);
  const digest = sha256Digest(e.data);
  lease.add("blob", [digest]);
  const existed = await store.content.hasBlob(digest);
  const info = await store.content.writeBlob(e.data, { expected: digest });
  if (!existed) newBlobs.push(info.digest);
  return info;
}

function memoryBytes(entries: Map<string, Entry>, name: string, what: string): Buffer {
  const e = lookup(entries, name);
  if (!e) throw invalidArgument(`invalid archive: ${what} ${name} is missing`);
  if (e.kind !== "memory") throw invalidArgument(`invalid archive: ${what} ${name} is too large`);
  return e.data;
}

function stringArray(v: unknown, what: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
    throw invalidArgument(`invalid archive: ${what} must be a list of strings`);
  return v;
}

async function planImages(archive: LoadedArchive, opts: LoadOptions): Promise<ImageToLoad[]> {
  const { entries } = archive;
  const dockerManifest = jsonDocument(entries, "manifest.json");
  if (dockerManifest !== undefined) return planDockerArchive(archive, dockerManifest);
  const index = jsonDocument(entries, "index.json");
  if (index !== undefined) {
    if (!lookup(entries, "oci-layout"))
      throw invalidArgument("invalid archive: index.json without oci-layout");
    return planOciLayout(archive, opts);
  }
  throw invalidArgument(
    "invalid archive: no manifest.json (docker-archive) or index.json (OCI layout) found",
  );
}

async function planDockerArchive(archive: LoadedArchive, doc: unknown): Promise<ImageToLoad[]> {
  const { entries } = archive;
  if (!Array.isArray(doc)) throw invalidArgument("invalid archive: manifest.json must be a list");
  const out: ImageToLoad[] = [];
  for (const item of doc) {
    if (typeof item !== "object" || item === null)
      throw invalidArgument("invalid archive: manifest.json entry is not an object");
    const rec = item as Record<string, unknown>;
    if (typeof rec.Config !== "string")
      throw invalidArgument("invalid archive: manifest.json entry without Config");
    const configBytes = memoryBytes(entries, rec.Config, "config");
    const config = parseImageConfig(configBytes);
    const layers = [];
    for (const l of stringArray(rec.Layers, "Layers")) layers.push({ blob: await asBlob(archive, l) });
    const tags = stringArray(rec.RepoTags, "RepoTags").map((t) => {
      const ref = parseNormalizedNamed(t);
      if (ref.digest) throw invalidArgument(`invalid archive: RepoTags entry ${t} is a digest reference`);
      return withDefaultTag(ref);
    });
    out.push({ configDigest: sha256Digest(configBytes), configBytes, config, layers, tags });
  }
  return out;
}

async function planOciLayout(archive: LoadedArchive, opts: LoadOptions): Promise<ImageToLoad[]> {
  const { entries } = archive;
  const blobBytes = (d: Digest) => memoryBytes(entries, `blobs/sha256/${d.slice(7)}`, "blob");
  const out = new Map<string, ImageToLoad>();
  const wanted: Platform = opts.platform
    ? parsePlatform(opts.platform, opts.hostPlatform)
    : opts.hostPlatform;

  const visitIndex = async (bytes: Buffer, depth: number, inherited: Reference | undefined) => {
    if (depth > MAX_INDEX_DEPTH) throw invalidArgument("invalid archive: indexes nested too deeply");
    const index = parseIndex(bytes);
    // Entries without a platform are images of their own (tagged layouts); of the
    // platform-specific ones, the best match for the wanted platform.
    const best = selectManifest(index, wanted);
    const candidates = index.manifests.filter((m) => m.platform === undefined || m === best);
    for (const desc of candidates) {
      const name =
        desc.annotations?.["io.containerd.image.name"] ??
        desc.annotations?.["org.opencontainers.image.ref.name"];
      let ref = inherited;
      if (name) {
        try {
          const parsed = parseNormalizedNamed(name);
          if (!parsed.digest) ref = withDefaultTag(parsed);
        } catch {
          // a bare tag such as "latest" names no repository: the image loads untagged
        }
      }
      const bytes = blobBytes(parseDigest(desc.digest));
      if (sha256Digest(bytes) !== desc.digest)
        throw invalidArgument(`invalid archive: blob ${desc.digest} does not match its digest`);
      if (desc.mediaType === MEDIA_TYPES.ociIndex || desc.mediaType === MEDIA_TYPES.dockerManifestList) {
        await visitIndex(bytes, depth + 1, ref);
        continue;
      }
      const manifest = parseManifest(bytes, { expectedMediaType: desc.mediaType });
      const configDigest = parseDigest(manifest.config.digest);
      const configBytes = blobBytes(configDigest);
      const config = parseImageConfig(configBytes);
      const existing = out.get(configDigest);
      if (existing) {
        if (ref && !existing.tags.some((t) => referenceString(t) === referenceString(ref as Reference)))
          existing.tags.push(ref);
        continue;
      }
      const layers = [];
      for (const l of manifest.layers) {
        const digest = parseDigest(l.digest);
        const blob = await asBlob(archive, `blobs/sha256/${digest.slice(7)}`);
        if (blob.digest !== digest)
          throw invalidArgument(`invalid archive: layer ${digest} does not match its digest`);
        layers.push({ blob });
      }
      out.set(configDigest, { configDigest, configBytes, config, layers, tags: ref ? [ref] : [] });
    }
  };
  const indexEntry = lookup(entries, "index.json");
  if (indexEntry?.kind !== "memory") throw invalidArgument("invalid archive: index.json is too large");
  await visitIndex(indexEntry.data, 0, undefined);
  return [...out.values()];
}
