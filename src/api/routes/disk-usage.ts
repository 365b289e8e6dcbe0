/**
 * GET /system/df: disk usage of images, containers, volumes and build cache. `type=` (repeatable,
 * API 1.42+) narrows the answer to some kinds; the others are null, as dockerd leaves them.
 * Like every route it decodes the request and encodes the answer; what happens is the engine's,
 * and it never reaches the store, the runtime or the files itself.
 */
import { invalidArgument } from "../../base/errors.js";
import type { DiskUsage } from "../../engine/types.js";
import { sendJson } from "../http.js";
import { compareVersions, type Router } from "../router.js";

export type DiskUsageKind = "container" | "image" | "volume" | "build-cache";
const KINDS: readonly DiskUsageKind[] = ["container", "image", "volume", "build-cache"];

function isKind(v: string): v is DiskUsageKind {
  return (KINDS as readonly string[]).includes(v);
}

/** The kinds asked for; every kind when `type` is absent or the API is older than 1.42. */
export function decodeDiskUsageTypes(q: URLSearchParams, apiVersion: string): ReadonlySet<DiskUsageKind> {
  const types = q.getAll("type");
  if (types.length === 0 || compareVersions(apiVersion, "1.42") < 0) return new Set(KINDS);
  const out = new Set<DiskUsageKind>();
  for (const t of types) {
    if (!isKind(t)) throw invalidArgument(`unknown object type: ${t}`);
    out.add(t);
  }
  return out;
}

/** The answer with only the kinds asked for. */
export function diskUsageView(
  du: DiskUsage,
  kinds: ReadonlySet<DiskUsageKind>,
): {
  LayersSize: number;
  Images: DiskUsage["Images"] | null;
  Containers: DiskUsage["Containers"] | null;
  Volumes: DiskUsage["Volumes"] | null;
  BuildCache: DiskUsage["BuildCache"] | null;
} {
  return {
    LayersSize: kinds.has("image") ? du.LayersSize : 0,
    Images: kinds.has("image") ? du.Images : null,
    Containers: kinds.has("container") ? du.Containers : null,
    Volumes: kinds.has("volume") ? du.Volumes : null,
    BuildCache: kinds.has("build-cache") ? du.BuildCache : null,
  };
}

export function diskUsageRoutes(router: Router): void {
  router.get("/system/df", async (ctx) => {
    const kinds = decodeDiskUsageTypes(ctx.query, ctx.apiVersion);
    sendJson(ctx.res, 200, diskUsageView(await ctx.engine.systemDf(), kinds));
  });
}
