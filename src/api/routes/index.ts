/**
 * Every route of the API, one registration function per area (each in its own file). A new
 * endpoint goes in the file of its area; a new area gets a file and a line here.
 * It holds no route of its own.
 */
import type { Router } from "../router.js";
import { attachRoutes } from "./attach.js";
import { buildRoutes } from "./build.js";
import { containerRoutes } from "./containers.js";
import { diskUsageRoutes } from "./disk-usage.js";
import { eventRoutes } from "./events.js";
import { execRoutes } from "./exec.js";
import { imageRoutes, registryRoutes } from "./images.js";
import { networkRoutes } from "./networks.js";
import { pluginRoutes, swarmRoutes } from "./swarm.js";
import { systemRoutes } from "./system.js";
import { volumeRoutes } from "./volumes.js";

export function registerRoutes(r: Router): Router {
  systemRoutes(r);
  containerRoutes(r);
  attachRoutes(r);
  execRoutes(r);
  imageRoutes(r);
  registryRoutes(r);
  buildRoutes(r);
  volumeRoutes(r);
  networkRoutes(r);
  diskUsageRoutes(r);
  eventRoutes(r);
  swarmRoutes(r);
  pluginRoutes(r);
  return r;
}
