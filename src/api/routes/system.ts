/**
 * System endpoints: /_ping (GET and HEAD), /version and /info. /_ping is what clients call first
 * (version negotiation reads its API-Version header), so it never touches the store; /version and
 * /info are the engine's (Engine.systemVersion, Engine.systemInfo).
 */
import type { ServerResponse } from "node:http";
import { sendJson } from "../http.js";
import { MAX_API_VERSION, MIN_API_VERSION, type RequestContext, type Router } from "../router.js";

function pingHeaders(res: ServerResponse): void {
  res.setHeader("API-Version", MAX_API_VERSION);
  res.setHeader("OSType", "linux");
  // The classic builder's protocol: POST /build streams {"stream": …} lines (no BuildKit session).
  res.setHeader("Builder-Version", "1");
  res.setHeader("Docker-Experimental", "false");
  res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
  res.setHeader("Pragma", "no-cache");
}

async function ping(ctx: RequestContext): Promise<void> {
  pingHeaders(ctx.res);
  const body = ctx.req.method === "HEAD" ? "" : "OK";
  ctx.res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 2 });
  ctx.res.end(body);
}

/** The engine's version facts, with the API versions this server speaks (the router's). */
async function version(ctx: RequestContext): Promise<void> {
  const v = await ctx.engine.systemVersion();
  const api = { ApiVersion: MAX_API_VERSION, MinAPIVersion: MIN_API_VERSION };
  sendJson(ctx.res, 200, {
    ...v,
    ...api,
    Components: v.Components.map((c) =>
      c.Name === "Engine" ? { ...c, Details: { ...c.Details, ...api } } : c,
    ),
  });
}

async function info(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, await ctx.engine.systemInfo());
}

export function systemRoutes(r: Router): Router {
  return r.get("/_ping", ping).head("/_ping", ping).get("/version", version).get("/info", info);
}
