/**
 * Routes of the Docker Engine API: method + path pattern → handler, with the version prefix
 * (`/v1.41/…` to `/v1.50/…`) stripped and checked, and unversioned paths answered at the
 * newest version. Patterns use `{name}` for one path segment and `{name:.*}` for the rest of
 * the path up to the next literal (image names contain slashes).
 * It matches routes and checks versions only; it never calls the engine and never writes an answer
 * (handlers and the server do).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { invalidArgument } from "../base/errors.js";
import { API_VERSION, compareApiVersions, MIN_API_VERSION } from "../engine/api-version.js";
import type { Engine } from "../engine/engine.js";
import { HttpError, type RequestLimits } from "./http.js";
import type { Logger } from "./logger.js";
import type { Sessions } from "./sessions.js";

/** The newest API version served (the docker 28.x CLI's). */
export const MAX_API_VERSION = API_VERSION;
/** The oldest API version served. */
export { MIN_API_VERSION };

/** A request upgraded to a raw stream (attach, exec start): the socket and what followed the headers. */
export interface Upgrade {
  readonly socket: Duplex;
  /** Bytes the client sent after the request body (early stdin). */
  readonly head: Buffer;
  /** The request body (Content-Length bytes), read off the socket before the handler runs. */
  readonly body: Buffer;
}

/** What a handler gets. */
export interface RequestContext {
  readonly req: IncomingMessage;
  /** Absent for upgraded requests, which answer on `upgrade.socket`. */
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The API version the client asked for (the prefix) or the newest. */
  readonly apiVersion: string;
  /** Aborted when the client goes away or the server stops. */
  readonly signal: AbortSignal;
  readonly engine: Engine;
  readonly log: Logger;
  readonly limits: RequestLimits;
  /** Set when the client asked for `Connection: Upgrade` (attach and exec start hijack). */
  readonly upgrade?: Upgrade;
  /** Server facts routes may need (version strings, the store's root). */
  readonly server: ServerFacts;
  /** What the server keeps between requests (pending attaches, exec instances). */
  readonly sessions: Sessions;
}

/** Facts about this server that /version, /info and friends report. */
export interface ServerFacts {
  readonly version: string;
  readonly root: string;
  readonly runroot: string;
  /** When the server started (ms since the epoch). */
  readonly startedAt: number;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
  /** Handlers that can take over the connection (attach, exec start). */
  readonly hijack: boolean;
}

export interface RouteOptions {
  readonly hijack?: boolean;
}

export interface Match {
  readonly handler: Handler;
  readonly params: Record<string, string>;
  readonly hijack: boolean;
}

export type Resolution =
  | { readonly kind: "match"; readonly match: Match; readonly apiVersion: string }
  | { readonly kind: "error"; readonly error: Error };

function compile(pattern: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  let src = "";
  let rest = pattern;
  while (rest.length > 0) {
    const open = rest.indexOf("{");
    if (open < 0) {
      src += escapeRegex(rest);
      break;
    }
    src += escapeRegex(rest.slice(0, open));
    const close = rest.indexOf("}", open);
    if (close < 0) throw new Error(`bad route pattern ${pattern}`);
    const [name, re] = rest.slice(open + 1, close).split(":");
    names.push(name ?? "");
    src += re === ".*" ? "(.+?)" : "([^/]+)";
    rest = rest.slice(close + 1);
  }
  return { regex: new RegExp(`^${src}/?$`), names };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compares dotted versions numerically ("1.9" < "1.41"). */
export const compareVersions = compareApiVersions;

export class Router {
  private readonly routes: Route[] = [];

  /** Registers a handler; `method` is GET, HEAD, POST, PUT or DELETE. */
  add(method: string, pattern: string, handler: Handler, opts: RouteOptions = {}): this {
    const { regex, names } = compile(pattern);
    this.routes.push({ method, pattern, regex, names, handler, hijack: !!opts.hijack });
    return this;
  }

  get(pattern: string, handler: Handler, opts?: RouteOptions): this {
    return this.add("GET", pattern, handler, opts);
  }
  head(pattern: string, handler: Handler): this {
    return this.add("HEAD", pattern, handler);
  }
  post(pattern: string, handler: Handler, opts?: RouteOptions): this {
    return this.add("POST", pattern, handler, opts);
  }
  put(pattern: string, handler: Handler): this {
    return this.add("PUT", pattern, handler);
  }
  delete(pattern: string, handler: Handler): this {
    return this.add("DELETE", pattern, handler);
  }

  /** Every registered method and pattern, for tests and docs. */
  list(): Array<{ method: string; pattern: string }> {
    return this.routes.map((r) => ({ method: r.method, pattern: r.pattern }));
  }

  /**
   * Finds the route of a request path (without the query). The version prefix is checked:
   * older than 1.41 or newer than 1.50 is 400 with Docker's message. An unknown path is 404
   * `page not found`; a known path with another method is 405.
   */
  resolve(method: string, rawPath: string): Resolution {
    let path = rawPath;
    let apiVersion = MAX_API_VERSION;
    const prefix = /^\/v([0-9][0-9.]*)(\/.*)$/.exec(path);
    if (prefix) {
      const v = prefix[1] ?? "";
      path = prefix[2] ?? "/";
      if (compareVersions(v, MIN_API_VERSION) < 0) {
        return {
          kind: "error",
          error: invalidArgument(
            `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
          ),
        };
      }
      if (compareVersions(v, MAX_API_VERSION) > 0) {
        return {
          kind: "error",
          error: invalidArgument(
            `client version ${v} is too new. Maximum supported API version is ${MAX_API_VERSION}`,
          ),
        };
      }
      apiVersion = v;
    }
    let decoded: string;
    try {
      decoded = decodePath(path);
    } catch {
      return { kind: "error", error: invalidArgument(`invalid path: ${rawPath}`) };
    }
    let pathMatched = false;
    // HEAD falls back to GET's handler where no HEAD route exists (Node drops the body).
    for (const wanted of method === "HEAD" ? ["HEAD", "GET"] : [method]) {
      for (const r of this.routes) {
        const m = r.regex.exec(decoded);
        if (!m) continue;
        pathMatched = true;
        if (r.method !== wanted) continue;
        const params: Record<string, string> = {};
        r.names.forEach((n, i) => {
          params[n] = m[i + 1] ?? "";
        });
        return { kind: "match", match: { handler: r.handler, params, hijack: r.hijack }, apiVersion };
      }
    }
    if (pathMatched) return { kind: "error", error: new HttpError(405, "method not allowed") };
    return { kind: "error", error: new HttpError(404, "page not found") };
  }
}

/** Percent-decodes each segment, keeping encoded slashes as separators (names never hold one). */
function decodePath(path: string): string {
  return path
    .split("/")
    .map((s) => decodeURIComponent(s))
    .join("/");
}
