/**
 * The rules of a listener that also serves the web view to a browser (`berth serve --ui`).
 * A browser carries the user's reach to 127.0.0.1 into every page it shows, so a page on another
 * origin must not be able to drive the API through it:
 *
 * - Host must name this listener (127.0.0.1, localhost or ::1 with its port): a name an attacker
 *   points at 127.0.0.1 (DNS rebinding) sends its own Host and is refused.
 * - Origin, when sent, must be this listener's own origin (browsers send it on every cross-origin
 *   request and every POST/PUT/DELETE and WebSocket); `null` (sandboxed frames, files) is refused.
 * - Changing requests (POST, PUT, DELETE) and upgrades must carry that Origin: a client that sends
 *   none (curl, the docker CLI) uses the API's own sockets, not this listener.
 * - Sec-Fetch-Site `cross-site` or `same-site` (another port of 127.0.0.1 is same-site, a
 *   container's published app for one) is refused, except a top-level navigation to the page.
 *
 * The server answers no CORS headers, so the browser also keeps other origins from reading
 * answers. Pure: it reads the request's headers only.
 */
import type { IncomingHttpHeaders } from "node:http";
import { HttpError } from "./http.js";

export interface BrowserListener {
  /** The address the listener is bound to (a loopback address). */
  readonly host: string;
  /** The port it is bound to (the one chosen, for port 0). */
  readonly port: number;
}

/** 127.0.0.0/8, ::1 and localhost: the hosts plain HTTP is served on. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The `host:port` values that name this listener. */
export function listenerHosts(l: BrowserListener): string[] {
  const names = new Set([l.host, "127.0.0.1", "localhost"]);
  if (l.host === "::1" || l.host === "localhost") names.add("::1");
  return [...names].map((h) => (h.includes(":") ? `[${h}]:${l.port}` : `${h}:${l.port}`));
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

const CHANGING = new Set(["POST", "PUT", "DELETE", "PATCH"]);

/**
 * Why the request may not be served on this listener, or undefined when it may. `page` is true
 * for the web view's own documents, which a navigation from anywhere may load.
 */
export function refuseBrowserRequest(
  l: BrowserListener,
  req: {
    readonly method: string;
    readonly headers: IncomingHttpHeaders;
    readonly upgrade: boolean;
    readonly page: boolean;
  },
): HttpError | undefined {
  const hosts = listenerHosts(l);
  const host = single(req.headers.host)?.toLowerCase();
  if (!host || !hosts.includes(host)) {
    return new HttpError(
      403,
      `refused: Host ${JSON.stringify(host ?? "")} is not this listener (${hosts.join(", ")})`,
    );
  }
  const origin = single(req.headers.origin);
  if (origin !== undefined && !hosts.some((h) => origin.toLowerCase() === `http://${h}`)) {
    return new HttpError(403, `refused: a request from origin ${JSON.stringify(origin)}`);
  }
  if ((CHANGING.has(req.method) || req.upgrade) && origin === undefined) {
    return new HttpError(
      403,
      "refused: changing requests on the web view's listener must come from its page (use the API socket)",
    );
  }
  const site = single(req.headers["sec-fetch-site"]);
  const navigation = single(req.headers["sec-fetch-mode"]) === "navigate" && req.method === "GET";
  if ((site === "cross-site" || site === "same-site") && !(navigation && req.page)) {
    return new HttpError(403, `refused: a ${site} request`);
  }
  return undefined;
}
