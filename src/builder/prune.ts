/**
 * `builder prune`: deletes build cache records, then lets the image store's garbage collection
 * remove the layers nothing uses any more. Without `All`, only records whose layer no image or
 * container uses (Docker's "dangling" cache); records without a layer (metadata steps) go only
 * with `All`. With `All`, every record. The bytes reported are those of the snapshots removed.
 * Filters narrow it further: `until` (last used before), `id` (prefix), `type`, `description`,
 * and `label`/`label!` as `system prune` passes them (records carry no labels, so `label=`
 * matches none and `label!=` all).
 */
import { invalidArgument } from "../base/errors.js";
import type { BuildCachePruneOptions, BuildCachePruneReport, BuildCacheRecord } from "../engine/types.js";
import { matchLabels, parseTimestamp } from "../images/filters.js";
import type { ImageStore } from "../images/store.js";
import type { BuildCacheMetadata } from "../metadata/build-cache.js";

export async function pruneBuildCache(
  store: ImageStore,
  cache: BuildCacheMetadata,
  opts: BuildCachePruneOptions = {},
): Promise<BuildCachePruneReport> {
  const filters = opts.Filters ?? {};
  const allowed = ["until", "unused-for", "id", "type", "description", "label", "label!"];
  for (const k of Object.keys(filters))
    if (!allowed.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
  const now = Date.now();
  const untilValues = [...(filters.until ?? []), ...(filters["unused-for"] ?? [])];
  const until =
    untilValues.length > 0 ? Math.min(...untilValues.map((v) => parseTimestamp(v, now))) : undefined;
  const ids = filters.id ?? [];
  const types = filters.type ?? [];
  const descriptions = filters.description ?? [];
  const labels = filters.label ?? [];
  const notLabels = filters["label!"] ?? [];
  const deleted = store.db.write(() => {
    const out: string[] = [];
    for (const r of cache.list()) {
      if (!opts.All && (r.chainId === "" || cache.layerInUse(r.chainId))) continue;
      if (until !== undefined && r.lastUsed >= until) continue;
      const id = r.key.replace(/^sha256:/, "");
      if (ids.length > 0 && !ids.some((i) => id.startsWith(i))) continue;
      if (types.length > 0 && !types.includes("regular")) continue;
      if (descriptions.length > 0 && !descriptions.some((d) => r.description.includes(d))) continue;
      if (labels.length > 0 && !matchLabels({}, labels)) continue;
      if (notLabels.length > 0 && !matchLabels({}, notLabels, true)) continue;
      cache.delete(r.key);
      out.push(r.key.replace(/^sha256:/, "").slice(0, 25));
    }
    return out;
  });
  const gc = await store.collectGarbage();
  store.events.emit("builder", "prune", { ID: "", Attributes: { reclaimed: String(gc.bytes) } });
  return { CachesDeleted: deleted, SpaceReclaimed: gc.bytes };
}

/** The cache records as `system df` reports them (records with a layer). */
export function buildCacheUsage(cache: BuildCacheMetadata): BuildCacheRecord[] {
  return cache
    .list()
    .filter((r) => r.chainId !== "")
    .map((r) => ({
      ID: r.key.replace(/^sha256:/, "").slice(0, 25),
      Type: "regular",
      Description: r.description,
      InUse: false,
      Shared: cache.layerInUse(r.chainId),
      Size: r.size,
      CreatedAt: new Date(r.createdAt).toISOString(),
      LastUsedAt: new Date(r.lastUsed).toISOString(),
      UsageCount: 1,
    }));
}
