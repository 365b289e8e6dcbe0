/**
 * Image operations in the Docker Engine API's terms: list, inspect, history, tag, remove,
 * prune and disk usage. Handlers return data; rendering belongs to the CLI.
 * It never writes to stdout or formats for a terminal; it never ingests layers (store.ts does).
 */

import { pipeline } from "node:stream";
import { conflict, invalidArgument, notFound } from "../base/errors.js";
import { decompressStream } from "../diff/compression.js";
import type {
  DiskUsage,
  HistoryResponseItem,
  ImageAnalysis,
  ImageDeleteResponseItem,
  ImageInspect,
  ImageInspectConfig,
  ImageListOptions,
  ImagePruneOptions,
  ImageRemoveOptions,
  ImageSummary,
  ImagesPruneResponse,
} from "../engine/types.js";
import type { ImageRecord, RefRecord } from "../metadata/images.js";
import { type Digest, shortId } from "../oci/digest.js";
import type { ImageConfig } from "../oci/image.js";
import {
  familiarString,
  parseNormalizedNamed,
  type Reference,
  referenceString,
  withDefaultTag,
} from "../oci/reference.js";
import { type AnalysisLayerInput, analyzeLayers, readLayerEntries } from "./analyze.js";
import {
  boolFilter,
  checkFilterKeys,
  filterValues,
  matchLabels,
  parseTimestamp,
  pathMatch,
} from "./filters.js";
import type { ImageStore, IngestedLayer } from "./store.js";
import { zstdDecompressStream } from "./transfer.js";

/** Who uses an image: containers come with a later issue and plug in here. */
export interface ImageUsage {
  containersUsing(imageId: Digest): ReadonlyArray<{ readonly id: string; readonly running: boolean }>;
}

export const noImageUsage: ImageUsage = { containersUsing: () => [] };

const ZERO_TIME = "0001-01-01T00:00:00Z";

function unixSeconds(rfc3339: string | undefined): number {
  if (!rfc3339) return 0;
  const t = Date.parse(rfc3339);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

function familiar(name: string): string {
  return familiarString(parseNormalizedNamed(name));
}

export class ImageService {
  constructor(
    readonly store: ImageStore,
    readonly usage: ImageUsage = noImageUsage,
  ) {}

  private refsByImage(): Map<string, RefRecord[]> {
    const map = new Map<string, RefRecord[]>();
    for (const r of this.store.meta.allRefs()) {
      const list = map.get(r.imageId) ?? [];
      list.push(r);
      map.set(r.imageId, list);
    }
    return map;
  }

  private summary(rec: ImageRecord, refs: readonly RefRecord[]): ImageSummary {
    return {
      Id: rec.id,
      ParentId: rec.parentId,
      RepoTags: refs.filter((r) => r.kind === "tag").map((r) => familiar(r.name)),
      RepoDigests: refs.filter((r) => r.kind === "digest").map((r) => familiar(r.name)),
      Created: unixSeconds(rec.created),
      Size: rec.size,
      SharedSize: -1,
      Labels: { ...rec.labels },
      Containers: -1,
    };
  }

  async list(opts: ImageListOptions = {}): Promise<ImageSummary[]> {
    const filters = opts.filters;
    checkFilterKeys(filters, ["dangling", "label", "before", "since", "reference", "until"]);
    const dangling = boolFilter(filters, "dangling");
    const labels = filterValues(filters, "label");
    const patterns = filterValues(filters, "reference");
    const now = this.store.now();
    const before = filterValues(filters, "before").map((n) => unixSeconds(this.store.resolve(n).created));
    const since = filterValues(filters, "since").map((n) => unixSeconds(this.store.resolve(n).created));
    const until = filterValues(filters, "until").map((v) => parseTimestamp(v, now) / 1000);

    const { images, refs, parents } = this.store.db.read(() => {
      const images = this.store.meta.listImages();
      return {
        images,
        refs: this.refsByImage(),
        parents: new Set(images.map((i) => i.parentId).filter(Boolean)),
      };
    });
    const out: ImageSummary[] = [];
    for (const rec of images) {
      const s = this.summary(rec, refs.get(rec.id) ?? []);
      const untagged = s.RepoTags.length === 0 && s.RepoDigests.length === 0;
      if (!opts.all && untagged && parents.has(rec.id) && dangling === undefined) continue; // intermediate
      if (dangling === true && (s.RepoTags.length > 0 || parents.has(rec.id))) continue;
      if (dangling === false && s.RepoTags.length === 0) continue;
      if (labels.length > 0 && !matchLabels(s.Labels, labels)) continue;
      if (before.some((t) => s.Created >= t) || since.some((t) => s.Created <= t)) continue;
      if (until.some((t) => s.Created >= t)) continue;
      if (patterns.length > 0) {
        const matching = (names: string[]) =>
          names.filter((n) => {
            const ref = parseNormalizedNamed(n);
            const bare = familiarString({ ...ref, tag: undefined, digest: undefined });
            return patterns.some((p) => pathMatch(p, bare) || pathMatch(p, n));
          });
        s.RepoTags = matching(s.RepoTags);
        s.RepoDigests = matching(s.RepoDigests);
        if (s.RepoTags.length === 0 && s.RepoDigests.length === 0) continue;
      }
      out.push(s);
    }
    out.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1));
    if (opts.sharedSize) this.fillSharedSize(out);
    return out;
  }

  async inspect(name: string): Promise<ImageInspect> {
    const rec = this.store.resolve(name);
    const config = await this.store.config(rec.id);
    const refs = this.store.meta.refsOf(rec.id);
    const lastTag = refs.reduce((m, r) => Math.max(m, r.createdAt), 0);
    const c = config.config ?? {};
    const inspectConfig: ImageInspectConfig = {
      User: c.User ?? "",
      ExposedPorts: c.ExposedPorts ? { ...c.ExposedPorts } : null,
      Env: c.Env ? [...c.Env] : null,
      Cmd: c.Cmd ? [...c.Cmd] : null,
      Volumes: c.Volumes ? { ...c.Volumes } : null,
      WorkingDir: c.WorkingDir ?? "",
      Entrypoint: c.Entrypoint ? [...c.Entrypoint] : null,
      OnBuild: c.OnBuild ? [...c.OnBuild] : null,
      Labels: c.Labels ? { ...c.Labels } : null,
    };
    if (c.StopSignal) inspectConfig.StopSignal = c.StopSignal;
    if (c.Shell) inspectConfig.Shell = [...c.Shell];
    if (c.Healthcheck) {
      const { Test, ...rest } = c.Healthcheck;
      inspectConfig.Healthcheck = { ...rest, ...(Test ? { Test: [...Test] } : {}) };
    }
    if (c.ArgsEscaped) inspectConfig.ArgsEscaped = true;
    const lower = [...rec.layers].reverse().map((l) => this.store.snapshots.fsPath(l.chainId));
    const out: ImageInspect = {
      Id: rec.id,
      RepoTags: refs.filter((r) => r.kind === "tag").map((r) => familiar(r.name)),
      RepoDigests: refs.filter((r) => r.kind === "digest").map((r) => familiar(r.name)),
      Parent: rec.parentId,
      Comment: imageComment(config),
      Created: config.created ?? ZERO_TIME,
      DockerVersion: config.docker_version ?? "",
      Author: config.author ?? "",
      Config: inspectConfig,
      Architecture: config.architecture,
      Os: config.os,
      Size: rec.size,
      GraphDriver: { Name: "overlay", Data: lower.length > 0 ? { LowerDir: lower.join(":") } : null },
      RootFS: { Type: "layers", Layers: rec.layers.map((l) => l.diffId) },
      Metadata: { LastTagTime: lastTag > 0 ? new Date(lastTag).toISOString() : ZERO_TIME },
    };
    if (config.variant) out.Variant = config.variant;
    return out;
  }

  /**
   * One row per history entry, newest first. A row carries an image ID when a local image
   * ends at it (the image itself, or a parent it was built on); otherwise `<missing>`.
   */
  async history(name: string): Promise<HistoryResponseItem[]> {
    const rec = this.store.resolve(name);
    const chain: Array<{ rec: ImageRecord; config: ImageConfig }> = [];
    const seen = new Set<string>();
    for (let cur: ImageRecord | undefined = rec; cur && !seen.has(cur.id); ) {
      seen.add(cur.id);
      chain.push({ rec: cur, config: await this.store.config(cur.id) });
      cur = cur.parentId ? this.store.meta.getImage(cur.parentId) : undefined;
    }
    const top = chain[0] as { rec: ImageRecord; config: ImageConfig };
    const entries = historyEntries(top.config);
    // Which entry index ends each local image of the chain.
    const owners = new Map<number, ImageRecord>();
    for (const link of chain) owners.set(historyEntries(link.config).length - 1, link.rec);
    const rows: HistoryResponseItem[] = [];
    let layerIdx = 0;
    const sizes = rec.layers.map((l) => this.store.meta.getSnapshot(l.chainId)?.size ?? 0);
    entries.forEach((h, i) => {
      const owner = owners.get(i);
      const size = h.empty_layer ? 0 : (sizes[layerIdx++] ?? 0);
      const tags = owner
        ? this.store.meta
            .refsOf(owner.id)
            .filter((r) => r.kind === "tag")
            .map((r) => familiar(r.name))
        : [];
      rows.push({
        Id: owner ? owner.id : "<missing>",
        Created: unixSeconds(h.created),
        CreatedBy: h.created_by ?? "",
        Tags: tags.length > 0 ? tags : null,
        Size: size,
        Comment: h.comment ?? "",
      });
    });
    return rows.reverse();
  }

  /**
   * Reads every layer's tar headers (under a lease, so a concurrent `rmi` cannot take the blobs
   * away half-way) and analyses the stack: see `analyze.ts`.
   */
  async analyze(name: string, opts: { readonly signal?: AbortSignal } = {}): Promise<ImageAnalysis> {
    const rec = this.store.resolve(name);
    return this.store.withLease(async (lease) => {
      const layers = await this.store.storedLayers(rec.id);
      await this.store.leaseLayers(layers, lease);
      const config = await this.store.config(rec.id);
      const createdBy = historyEntries(config)
        .filter((h) => h.empty_layer !== true)
        .map((h) => h.created_by ?? "");
      const inputs: AnalysisLayerInput[] = [];
      for (const [i, layer] of layers.entries()) {
        opts.signal?.throwIfAborted();
        const tar = await this.layerTar(layer, opts.signal);
        const entries = await readLayerEntries(tar, opts.signal ? { signal: opts.signal } : {});
        inputs.push({
          diffId: layer.diffId,
          digest: layer.blobDigest,
          createdBy: createdBy[i] ?? "",
          entries,
        });
      }
      const refs = this.store.meta.refsOf(rec.id);
      return {
        Id: rec.id,
        RepoTags: refs.filter((r) => r.kind === "tag").map((r) => familiar(r.name)),
        ...analyzeLayers(inputs),
      };
    });
  }

  /** A stored layer blob's uncompressed tar. */
  private async layerTar(layer: IngestedLayer, signal: AbortSignal | undefined) {
    const blob = this.store.content.openBlob(layer.blobDigest);
    if (layer.mediaType.includes("zstd")) {
      const plain = zstdDecompressStream();
      pipeline(blob, plain, () => {});
      return plain;
    }
    return (await decompressStream(blob, signal ? { signal } : {})).stream;
  }

  async tag(source: string, target: string): Promise<void> {
    const rec = this.store.resolve(source);
    const ref = parseTarget(target);
    this.store.db.write(() => {
      this.store.meta.setRef(referenceString(ref), rec.id, "tag", this.store.now());
      this.store.emitImageEvent("tag", rec.id, familiarString(ref), rec.id);
    });
  }

  async remove(name: string, opts: ImageRemoveOptions = {}): Promise<ImageDeleteResponseItem[]> {
    const force = opts.force ?? false;
    const records: ImageDeleteResponseItem[] = [];
    const found = this.store.lookup(name);
    if (!found) throw notFound(`No such image: ${name}`);
    const { rec } = found;
    const byRef = found.reference;
    let removedRepositoryRef = false;
    if (byRef) {
      const refs = this.store.meta.refsOf(rec.id);
      if (refs.length === 1 && !force) {
        const user = this.usage.containersUsing(rec.id)[0];
        if (user) {
          throw conflict(
            `conflict: unable to remove repository reference "${name}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(rec.id)}`,
          );
        }
      }
      const removed = this.store.db.write(() => this.untag(byRef, rec.id));
      records.push(...removed);
      if (this.store.meta.refsOf(rec.id).length > 0) return records;
      removedRepositoryRef = true;
    } else {
      const refs = this.store.meta.refsOf(rec.id);
      const repos = new Set(
        refs.map((r) => parseNormalizedNamed(r.name)).map((r) => `${r.domain}/${r.path}`),
      );
      const tags = refs.filter((r) => r.kind === "tag");
      if (refs.length > 0 && (repos.size <= 1 && tags.length <= 1 ? true : force)) {
        this.checkDeleteConflicts(rec, force, name);
        this.store.db.write(() => {
          for (const r of refs) {
            this.store.meta.deleteRef(r.name);
            this.store.emitImageEvent("untag", rec.id, rec.id, rec.id);
            records.push({ Untagged: familiar(r.name) });
          }
        });
      } else if (refs.length > 0) {
        throw conflict(
          `conflict: unable to delete ${shortId(rec.id)} (must be forced) - image is referenced in multiple repositories`,
        );
      }
    }
    await this.deleteImage(rec, { force, prune: !opts.noprune, records, name, quiet: removedRepositoryRef });
    return records;
  }

  /** Removes one reference; when it was the repository's last tag, its digests go too. */
  private untag(refName: string, id: Digest): ImageDeleteResponseItem[] {
    const out: ImageDeleteResponseItem[] = [];
    this.store.meta.deleteRef(refName);
    this.store.emitImageEvent("untag", id, id, id);
    out.push({ Untagged: familiar(refName) });
    const removed = parseNormalizedNamed(refName);
    if (!removed.digest) {
      const repo = `${removed.domain}/${removed.path}`;
      const rest = this.store.meta.refsOf(id).map((r) => ({ r, p: parseNormalizedNamed(r.name) }));
      const tagLeft = rest.some(({ p }) => !p.digest && `${p.domain}/${p.path}` === repo);
      if (!tagLeft) {
        for (const { r, p } of rest) {
          if (p.digest && `${p.domain}/${p.path}` === repo) {
            this.store.meta.deleteRef(r.name);
            this.store.emitImageEvent("untag", id, id, id);
            out.push({ Untagged: familiar(r.name) });
          }
        }
      }
    }
    return out;
  }

  private checkDeleteConflicts(rec: ImageRecord, force: boolean, name: string): void {
    const users = this.usage.containersUsing(rec.id);
    const running = users.find((u) => u.running);
    if (running) {
      throw conflict(
        `conflict: unable to delete ${shortId(rec.id)} (cannot be forced) - image is being used by running container ${shortId(running.id)}`,
      );
    }
    if (this.store.meta.childrenOf(rec.id).length > 0) {
      throw conflict(
        `conflict: unable to delete ${shortId(rec.id)} (cannot be forced) - image has dependent child images`,
      );
    }
    const stopped = users[0];
    if (stopped && !force) {
      throw conflict(
        `conflict: unable to delete ${name} (must be forced) - image is being used by stopped container ${shortId(stopped.id)}`,
      );
    }
  }

  private async deleteImage(
    rec: ImageRecord,
    opts: {
      force: boolean;
      prune: boolean;
      records: ImageDeleteResponseItem[];
      name: string;
      quiet: boolean;
    },
  ): Promise<void> {
    try {
      this.checkDeleteConflicts(rec, opts.force, opts.name);
    } catch (err) {
      // After removing the last tag, a used image simply stays as a dangling one.
      if (opts.quiet) return;
      throw err;
    }
    this.store.db.write(() => {
      for (const r of this.store.meta.refsOf(rec.id)) {
        this.store.meta.deleteRef(r.name);
        this.store.emitImageEvent("untag", rec.id, rec.id, rec.id);
        opts.records.push({ Untagged: familiar(r.name) });
      }
      this.store.emitImageEvent("delete", rec.id, rec.id, rec.id);
      this.store.meta.deleteImage(rec.id);
    });
    opts.records.push({ Deleted: rec.id });
    await this.store.discardBlobs(this.store.imageBlobs(rec));
    const gc = await this.store.collectGarbage();
    for (const chainId of gc.snapshots) opts.records.push({ Deleted: chainId });
    if (opts.prune && rec.parentId) {
      const parent = this.store.meta.getImage(rec.parentId);
      if (
        parent &&
        this.store.meta.refsOf(parent.id).length === 0 &&
        this.store.meta.childrenOf(parent.id).length === 0 &&
        this.usage.containersUsing(parent.id).length === 0
      ) {
        await this.deleteImage(parent, { ...opts, name: parent.id, quiet: true });
      }
    }
  }

  async prune(opts: ImagePruneOptions = {}): Promise<ImagesPruneResponse> {
    const filters = opts.filters;
    checkFilterKeys(filters, ["dangling", "until", "label", "label!"]);
    const danglingOnly = boolFilter(filters, "dangling") ?? true;
    const now = this.store.now();
    const until = filterValues(filters, "until").map((v) => parseTimestamp(v, now));
    const labels = filterValues(filters, "label");
    const notLabels = filterValues(filters, "label!");
    const sizeBefore = this.layersSize();
    const deleted: ImageDeleteResponseItem[] = [];
    // With `dangling=false` (prune -a) every unused image goes: a parent kept back for its child
    // in one pass is unused once the child is gone, so passes repeat until nothing more goes.
    for (;;) {
      const before = deleted.length;
      const { images, parents } = this.store.db.read(() => {
        const images = this.store.meta.listImages();
        return { images, parents: new Set(images.map((i) => i.parentId).filter(Boolean)) };
      });
      for (const rec of images) {
        if (parents.has(rec.id)) continue; // intermediate: goes with its child
        const refs = this.store.meta.refsOf(rec.id);
        if (danglingOnly && refs.some((r) => r.kind === "tag")) continue;
        if (this.usage.containersUsing(rec.id).length > 0) continue;
        if (until.some((t) => unixSeconds(rec.created) * 1000 >= t)) continue;
        if (labels.length > 0 && !matchLabels(rec.labels, labels)) continue;
        if (notLabels.length > 0 && !matchLabels(rec.labels, notLabels, true)) continue;
        try {
          if (refs.length === 0) {
            await this.deleteImage(rec, {
              force: false,
              prune: true,
              records: deleted,
              name: rec.id,
              quiet: false,
            });
          } else {
            for (const r of refs) {
              if (!this.store.meta.getRef(r.name)) continue;
              deleted.push(...(await this.remove(r.name, { force: false })));
            }
          }
        } catch (err) {
          // An image that became used or gained a child meanwhile is simply kept.
          if (!(err instanceof Error) || !("kind" in err) || err.kind !== "Conflict") throw err;
        }
      }
      if (danglingOnly || deleted.length === before) break;
    }
    await this.store.collectGarbage({ sweep: true });
    const reclaimed = Math.max(0, sizeBefore - this.layersSize());
    this.store.events.emit("image", "prune", { ID: "", Attributes: { reclaimed: String(reclaimed) } });
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  private layersSize(): number {
    return this.store.meta.listSnapshots().reduce((s, snap) => s + snap.size, 0);
  }

  /** SharedSize of each image: the size of its layers that another image also uses. */
  private fillSharedSize(images: ImageSummary[]): void {
    const snaps = new Map(this.store.meta.listSnapshots().map((s) => [s.chainId, s.size]));
    const records = new Map<string, ImageRecord>(this.store.meta.listImages().map((r) => [r.id, r]));
    const useCount = new Map<string, number>();
    for (const r of records.values())
      for (const l of r.layers) useCount.set(l.chainId, (useCount.get(l.chainId) ?? 0) + 1);
    for (const img of images) {
      img.SharedSize = (records.get(img.Id)?.layers ?? [])
        .filter((l) => (useCount.get(l.chainId) ?? 0) > 1)
        .reduce((s, l) => s + (snaps.get(l.chainId) ?? 0), 0);
    }
  }

  async diskUsage(): Promise<DiskUsage> {
    const images = await this.list({ all: true, sharedSize: true });
    const records = new Map<string, ImageRecord>(this.store.meta.listImages().map((r) => [r.id, r]));
    for (const img of images) {
      const rec = records.get(img.Id);
      img.Containers = rec ? this.usage.containersUsing(rec.id).length : 0;
    }
    const snaps = this.store.meta.listSnapshots();
    return {
      LayersSize: snaps.reduce((a, s) => a + s.size, 0),
      Images: images,
      Containers: [],
      Volumes: [],
      BuildCache: [],
    };
  }
}

/** A tag target for `tag`/`import`/`build -t`: a name with an optional tag, never a digest. */
export function parseTarget(target: string): Reference {
  let ref: Reference;
  try {
    ref = parseNormalizedNamed(target);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw invalidArgument(`Error parsing reference: "${target}" is not a valid repository/tag: ${why}`, err);
  }
  if (ref.digest) throw invalidArgument("refusing to create a tag with a digest reference");
  return withDefaultTag(ref);
}

function imageComment(config: ImageConfig): string {
  if (typeof config.comment === "string") return config.comment;
  const last = config.history?.[config.history.length - 1];
  return last?.comment ?? "";
}

/** History entries; an image without any gets one per layer, as Docker shows them. */
function historyEntries(config: ImageConfig): NonNullable<ImageConfig["history"]> {
  if (config.history && config.history.length > 0) return config.history;
  return config.rootfs.diff_ids.map(() => ({ created: config.created, created_by: "", comment: "" }));
}
