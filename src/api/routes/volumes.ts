/**
 * The volume endpoints: create, list, inspect, remove and prune, with Docker's filters. Cluster
 * (swarm) volumes are refused: berth is an engine that is not in a swarm.
 */
import { invalidArgument, unavailable } from "../../base/errors.js";
import type { VolumeCreateRequest } from "../../engine/types.js";
import { Fields, filterOptions, queryBool } from "../decode.js";
import { readJson, sendJson, sendNoContent } from "../http.js";
import type { Router } from "../router.js";
import { NOT_A_SWARM_MANAGER } from "./swarm.js";

/** POST /volumes/create body. An absent body creates an anonymous local volume, as Docker does. */
export function decodeVolumeCreate(body: unknown): VolumeCreateRequest {
  if (body === undefined) return {};
  const f = new Fields(body, "");
  if (f.raw("ClusterVolumeSpec") !== undefined && f.raw("ClusterVolumeSpec") !== null) {
    throw unavailable(NOT_A_SWARM_MANAGER);
  }
  const out: VolumeCreateRequest = {};
  const name = f.string("Name");
  const driver = f.string("Driver");
  const driverOpts = f.stringMap("DriverOpts");
  const labels = f.stringMap("Labels");
  if (name) out.Name = name;
  if (driver) out.Driver = driver;
  if (driverOpts) out.DriverOpts = driverOpts;
  if (labels) out.Labels = labels;
  return out;
}

export function volumeRoutes(router: Router): void {
  router.get("/volumes", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.volumeList(filterOptions(ctx.query)));
  });
  router.post("/volumes/create", async (ctx) => {
    const req = decodeVolumeCreate(await readJson(ctx.req, ctx.limits));
    sendJson(ctx.res, 201, await ctx.engine.volumeCreate(req));
  });
  router.post("/volumes/prune", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.volumePrune(filterOptions(ctx.query)));
  });
  router.get("/volumes/{name}", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.volumeInspect(ctx.params.name ?? ""));
  });
  router.put("/volumes/{name}", async () => {
    throw invalidArgument("volume update is only supported for cluster volumes, and berth is not in a swarm");
  });
  router.delete("/volumes/{name}", async (ctx) => {
    await ctx.engine.volumeRemove(ctx.params.name ?? "", { force: queryBool(ctx.query, "force") });
    sendNoContent(ctx.res);
  });
}
