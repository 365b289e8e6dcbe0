/**
 * `builder prune`: deletes build cache records, then lets the image store's garbage collection
 * remove the layers nothing uses any more. Without `All`, only records whose layer no image or
 * container uses (Docker's "dangling" cache); records without a layer (metadata steps) go only
 * with `All`. With `All`, every record. The bytes reported are those of the snapshots removed.
 */
import type { BuildCachePruneOptions, BuildCachePruneReport, BuildCacheRecord } from "../engine/types.js";
import type { ImageStore } from "../images/store.js";
import type { BuildCacheMetadata } from "../metadata/build-cache.js";

export async function pruneBuildCache(
  store: ImageStore,
  cache: BuildCacheMetadata,
  opts: BuildCachePruneOptions = {},
): Promise<BuildCachePruneReport> {
  const deleted = store.db.write(() => {
    const out: string[] = [];
    for (const r of cache.list()) {
      if (!opts.All && (r.chainId === "" || cache.layerInUse(r.chainId))) continue;
      cache.delete(r.key);
      out.push(r.key.replace(/^sha256:/, "").slice(0, 25));
    }
    return out;
  });
  const gc = await store.collectGarbage();
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
