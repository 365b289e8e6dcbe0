/**
 * What berth does not have answers as a Docker engine without it: swarm, nodes, services, tasks,
 * secrets and configs as an engine that is not in a swarm (503, dockerd's own words; SDKs call
 * `POST /swarm/leave` routinely and expect "not part of a swarm"), and plugins as an engine with
 * none installed (an empty list; a named plugin is not found; installing one is not supported).
 */
import { notFound, notImplemented, unavailable } from "../../base/errors.js";
import { sendJson } from "../http.js";
import type { Handler, Router } from "../router.js";

/** dockerd's answer to a cluster request on an engine that is not in a swarm. */
export const NOT_A_SWARM_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** dockerd's answer to `swarm leave` on an engine that is not in a swarm. */
export const NOT_PART_OF_A_SWARM = "This node is not part of a swarm";

const notManager: Handler = async () => {
  throw unavailable(NOT_A_SWARM_MANAGER);
};

/** Every cluster endpoint: [method, pattern]. */
const CLUSTER_ROUTES: ReadonlyArray<readonly [string, string]> = [
  ["GET", "/swarm"],
  ["POST", "/swarm/update"],
  ["GET", "/swarm/unlockkey"],
  ["POST", "/swarm/unlock"],
  ["GET", "/nodes"],
  ["GET", "/nodes/{id}"],
  ["DELETE", "/nodes/{id}"],
  ["POST", "/nodes/{id}/update"],
  ["GET", "/services"],
  ["POST", "/services/create"],
  ["GET", "/services/{id}"],
  ["DELETE", "/services/{id}"],
  ["POST", "/services/{id}/update"],
  ["GET", "/services/{id}/logs"],
  ["GET", "/tasks"],
  ["GET", "/tasks/{id}"],
  ["GET", "/tasks/{id}/logs"],
  ["GET", "/secrets"],
  ["POST", "/secrets/create"],
  ["GET", "/secrets/{id}"],
  ["DELETE", "/secrets/{id}"],
  ["POST", "/secrets/{id}/update"],
  ["GET", "/configs"],
  ["POST", "/configs/create"],
  ["GET", "/configs/{id}"],
  ["DELETE", "/configs/{id}"],
  ["POST", "/configs/{id}/update"],
];

export function swarmRoutes(router: Router): void {
  for (const [method, pattern] of CLUSTER_ROUTES) router.add(method, pattern, notManager);
  const noSwarmMode: Handler = async () => {
    throw notImplemented("swarm mode is not supported by berth");
  };
  router.post("/swarm/init", noSwarmMode);
  router.post("/swarm/join", noSwarmMode);
  router.post("/swarm/leave", async () => {
    throw unavailable(NOT_PART_OF_A_SWARM);
  });
}

export function pluginRoutes(router: Router): void {
  router.get("/plugins", async (ctx) => sendJson(ctx.res, 200, []));
  const noPlugins: Handler = async () => {
    throw notImplemented("plugins are not supported by berth");
  };
  router.get("/plugins/privileges", noPlugins);
  router.post("/plugins/pull", noPlugins);
  router.post("/plugins/create", noPlugins);
  const missing: Handler = async (ctx) => {
    throw notFound(`plugin "${ctx.params.name ?? ""}" not found`);
  };
  router.get("/plugins/{name:.*}/json", missing);
  router.post("/plugins/{name:.*}/enable", missing);
  router.post("/plugins/{name:.*}/disable", missing);
  router.post("/plugins/{name:.*}/upgrade", missing);
  router.post("/plugins/{name:.*}/push", missing);
  router.post("/plugins/{name:.*}/set", missing);
  router.delete("/plugins/{name:.*}", missing);
}
