/**
 * Every route of the API, one registration function per area (each in its own file). A new
 * endpoint goes in the file of its area; a new area gets a file and a line here.
 */
import type { Router } from "../router.js";
import { attachRoutes } from "./attach.js";
import { containerRoutes } from "./containers.js";
import { execRoutes } from "./exec.js";
import { systemRoutes } from "./system.js";

export function registerRoutes(r: Router): Router {
  systemRoutes(r);
  containerRoutes(r);
  attachRoutes(r);
  execRoutes(r);
  return r;
}
