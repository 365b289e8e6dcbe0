/**
 * The Docker Engine API server on node:http: listens on unix sockets and TCP (TLS with client
 * certificates off loopback), turns each request into a route call, and every failure into
 * Docker's error answer. It owns connections, not containers: stopping it aborts requests in
 * flight and closes connections; containers keep running under conmon.
 *
 * Lifecycle: `createApiServer()` → `listen(endpoint)` (once per -H) → `close()`.
 */
import { chmod, chown, stat, unlink } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { alreadyExists, errnoCode, errorMessage, invalidArgument } from "../base/errors.js";
import { bestEffort } from "../base/log.js";

import type { Engine } from "../engine/engine.js";
import { type BrowserListener, isLoopbackHost, refuseBrowserRequest } from "./browser.js";
import { DEFAULT_LIMITS, errorResponse, HttpError, type RequestLimits, sendError } from "./http.js";
import type { Logger } from "./logger.js";
import { type RequestContext, Router, type ServerFacts, type Upgrade } from "./router.js";
import { registerRoutes } from "./routes/index.js";
import { Sessions } from "./sessions.js";

/** Where the server listens: one per `-H`. */
export type Endpoint =
  | {
      readonly kind: "unix";
      readonly path: string;
      /** File mode of the socket (0660 as dockerd's). */
      readonly mode?: number;
      /** Group that owns the socket (the `berth` group when it exists). */
      readonly gid?: number;
    }
  | {
      readonly kind: "tcp";
      readonly host: string;
      readonly port: number;
      /** PEM contents; with them the server speaks TLS and requires a client certificate the CA signed. */
      readonly tls?: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer };
      /**
       * The listener of the web view (loopback, plain HTTP): it serves `page` beside the API and
       * checks every request as a browser's (./browser.ts).
       */
      readonly browser?: boolean;
    };

/** The web view's documents, served on browser listeners before the API's routes. */
export interface PageServer {
  /** True for the paths of the page's own documents. */
  handles(path: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse, path: string): void;
}

export interface ApiServerOptions {
  readonly engine: Engine;
  readonly logger: Logger;
  readonly facts: ServerFacts;
  readonly limits?: Partial<RequestLimits>;
  /** Routes to serve instead of the full API (tests of the server's own behaviour). */
  readonly router?: Router;
  /** The web view, for endpoints with `browser` set. */
  readonly page?: PageServer;
}

export interface ApiServer {
  /** Starts listening; resolves with the address (for tcp port 0, the port chosen). */
  listen(endpoint: Endpoint): Promise<string>;
  /** Stops accepting, aborts requests in flight, closes every connection. */
  close(): Promise<void>;
  /** Requests being served (for tests and the log). */
  readonly inFlight: number;
}

const MUTATING = new Set(["POST", "PUT", "DELETE"]);

/**
 * The server over `opts.engine`. Long as one closure on purpose: its inner functions (dispatch,
 * the browser gate, request and upgrade handlers, listener setup) share the server's state —
 * listeners, our unix sockets, requests in flight, hijacked connections, `closing` — and each is
 * short and named; a class would only move that state behind `this`.
 */
export function createApiServer(opts: ApiServerOptions): ApiServer {
  const limits: RequestLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const router = opts.router ?? registerRoutes(new Router());
  const log = opts.logger;
  const servers: Server[] = [];
  /** Our unix sockets and their inodes: close() removes a path only while it is still ours. */
  const unixPaths: Array<{ path: string; ino: number }> = [];
  const active = new Set<AbortController>();
  const hijacked = new Set<Duplex>();
  const sessions = new Sessions();
  let closing = false;

  async function dispatch(req: IncomingMessage, res: ServerResponse, upgrade?: Upgrade): Promise<void> {
    const controller = new AbortController();
    active.add(controller);
    const started = Date.now();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://berth");
    const onClose = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.on("close", onClose);
    if (upgrade) upgrade.socket.on("close", () => controller.abort());
    let status = 0;
    try {
      const found = router.resolve(method, url.pathname);
      if (found.kind === "error") throw found.error;
      const ctx: RequestContext = {
        req,
        res,
        params: found.match.params,
        query: url.searchParams,
        apiVersion: found.apiVersion,
        signal: controller.signal,
        engine: opts.engine,
        log,
        limits,
        server: opts.facts,
        sessions,
        ...(upgrade && found.match.hijack ? { upgrade } : {}),
      };
      await found.match.handler(ctx);
      status = res.statusCode;
    } catch (err) {
      status = errorResponse(err).status;
      if (status >= 500) log.error(`${method} ${url.pathname}: ${errorMessage(err)}`);
      else log.debug(`${method} ${url.pathname}: ${errorMessage(err)}`);
      // A body the handler stopped reading (bad input found in its first bytes) is read to its
      // end first, up to a bound: the client is still sending, and an answer that came first
      // would meet a broken pipe on its side instead of being read.
      if (!upgrade && !res.headersSent) await drainRequest(req, limits.drainBytes, limits.bodyIdleTimeoutMs);
      try {
        sendError(res, err);
      } catch {
        res.destroy();
      }
    } finally {
      active.delete(controller);
      res.off("close", onClose);
      if (MUTATING.has(method)) {
        log.info(`${method} ${url.pathname}${url.search}`, { status, ms: Date.now() - started });
      } else {
        log.debug(`${method} ${url.pathname}${url.search}`, { status, ms: Date.now() - started });
      }
    }
  }

  /**
   * A browser listener's check before anything else: true when the request was answered here
   * (refused, or one of the page's documents).
   */
  function answeredAsBrowser(
    gate: BrowserListener,
    req: IncomingMessage,
    res: ServerResponse,
    upgrade: boolean,
  ): boolean {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://berth").pathname;
    const page = !upgrade && (opts.page?.handles(path) ?? false);
    const refused = refuseBrowserRequest(gate, { method, headers: req.headers, upgrade, page });
    if (refused) {
      log.info(`${method} ${path}: ${refused.message}`, { status: refused.status });
      sendError(res, refused);
      return true;
    }
    if (page && opts.page) {
      opts.page.serve(req, res, path);
      return true;
    }
    return false;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse, gate?: BrowserListener): void {
    if (gate && answeredAsBrowser(gate, req, res, false)) return;
    // The last line of defence: dispatch already turns failures into answers.
    dispatch(req, res).catch((err: unknown) => {
      log.error(`request failed: ${errorMessage(err)}`);
      res.destroy();
    });
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, gate?: BrowserListener): void {
    if (closing) {
      socket.destroy();
      return;
    }
    hijacked.add(socket);
    socket.on("close", () => hijacked.delete(socket));
    socket.on("error", () => undefined);
    // A response object on the raw socket: errors before the hijack are ordinary HTTP answers.
    const res = new ServerResponse(req);
    res.assignSocket(socket as import("node:net").Socket);
    res.shouldKeepAlive = false;
    res.on("finish", () => {
      if (!socket.destroyed && !socket.writableEnded) socket.end();
    });
    if (gate && answeredAsBrowser(gate, req, res, true)) return;
    readUpgradeBody(req, socket, head, limits)
      .then(({ body, rest }) => dispatch(req, res, { socket, head: rest, body }))
      .catch((err: unknown) => {
        log.debug(`upgraded request failed: ${errorMessage(err)}`);
        try {
          sendError(res, err);
        } catch {
          socket.destroy();
        }
      });
  }

  /** `gate` is the browser listener's address once it is known (set after listen). */
  function configure(server: Server, gate?: { listener?: BrowserListener }): Server {
    server.maxHeadersCount = 200;
    server.headersTimeout = limits.headersTimeoutMs;
    // A request's body may stream for as long as it sends (build contexts, archive PUT): bodies
    // are bounded by the idle timeout of readBody and by the routes, not by a total deadline.
    server.requestTimeout = 0;
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    if (gate) {
      // Until listen() has the address, nothing can be checked: refuse.
      const unready = { host: "", port: -1 };
      server.on("request", (req: IncomingMessage, res: ServerResponse) =>
        onRequest(req, res, gate.listener ?? unready),
      );
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        onUpgrade(req, socket, head, gate.listener ?? unready),
      );
    } else {
      server.on("request", (req: IncomingMessage, res: ServerResponse) => onRequest(req, res));
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        onUpgrade(req, socket, head),
      );
    }
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.writable && !socket.destroyed) {
        const status =
          err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
        const body = JSON.stringify({
          message: status === 431 ? "request headers too large" : "bad request",
        });
        socket.end(
          `HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request"}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else socket.destroy();
    });
    return server;
  }

  function newServer(endpoint: Endpoint, gate?: { listener?: BrowserListener }): Server {
    const base = {
      maxHeaderSize: limits.headerBytes,
      // How often Node looks for requests past headersTimeout (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    };
    if (endpoint.kind === "tcp" && endpoint.tls) {
      return configure(
        createHttpsServer({
          ...base,
          ca: endpoint.tls.ca,
          cert: endpoint.tls.cert,
          key: endpoint.tls.key,
          requestCert: true,
          rejectUnauthorized: true,
        }),
      );
    }
    return configure(createHttpServer(base), gate);
  }

  return {
    get inFlight() {
      return active.size;
    },
    async listen(endpoint) {
      if (endpoint.kind === "tcp" && endpoint.browser && (endpoint.tls || !isLoopbackHost(endpoint.host))) {
        throw invalidArgument(
          `the web view is served only on loopback, over plain HTTP (not ${endpoint.host})`,
        );
      }
      const gate: { listener?: BrowserListener } | undefined =
        endpoint.kind === "tcp" && endpoint.browser ? {} : undefined;
      const server = newServer(endpoint, gate);
      if (endpoint.kind === "unix") {
        await claimSocketPath(endpoint.path);
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(endpoint.path, () => {
            server.off("error", reject);
            resolve();
          });
        }).catch((err: unknown) => {
          if (errnoCode(err) === "EADDRINUSE")
            throw alreadyExists(`another server is already listening on unix://${endpoint.path}`);
          throw err;
        });
        unixPaths.push({ path: endpoint.path, ino: (await stat(endpoint.path)).ino });
        await chmod(endpoint.path, endpoint.mode ?? 0o660);
        if (endpoint.gid !== undefined) await chown(endpoint.path, 0, endpoint.gid);
        servers.push(server);
        return `unix://${endpoint.path}`;
      }
      const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(endpoint.port, endpoint.host, () => {
          server.off("error", reject);
          const addr = server.address();
          resolve(typeof addr === "object" && addr !== null ? addr.port : endpoint.port);
        });
      }).catch((err: unknown) => {
        if (errnoCode(err) === "EADDRINUSE")
          throw alreadyExists(`address ${endpoint.host}:${endpoint.port} is already in use`);
        throw err;
      });
      if (gate) gate.listener = { host: endpoint.host, port };
      servers.push(server);
      return `tcp://${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${port}`;
    },
    async close() {
      closing = true;
      const closed = servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
          }),
      );
      // The socket files go first: a new server may take the paths while this one finishes.
      for (const { path, ino } of unixPaths) {
        // Gone already, or another server's now: either way not this one's to remove. Any other
        // failure is recorded, and the close goes on.
        await bestEffort(`removing the socket file ${path}`, async () => {
          const cur = await stat(path).catch((err: unknown) => {
            if (errnoCode(err) === "ENOENT") return undefined;
            throw err;
          });
          if (cur?.ino !== ino) return;
          await unlink(path).catch((err: unknown) => {
            if (errnoCode(err) !== "ENOENT") throw err;
          });
        });
      }
      for (const c of active) c.abort();
      for (const s of servers) s.closeIdleConnections();
      for (const sock of hijacked) sock.destroy();
      // Requests that ignore the abort get a moment, then their connections are cut.
      const cut = setTimeout(() => {
        for (const s of servers) s.closeAllConnections();
      }, 2000);
      await Promise.all(closed);
      clearTimeout(cut);
    },
  };
}

/**
 * An upgraded request's body: Node hands over the socket with the headers parsed and nothing
 * else read, so the Content-Length bytes are taken here; what follows them is the stream's.
 */
function readUpgradeBody(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  limits: RequestLimits,
): Promise<{ body: Buffer; rest: Buffer }> {
  const raw = req.headers["content-length"];
  const length = raw === undefined ? 0 : Number(raw);
  if (!Number.isSafeInteger(length) || length < 0)
    return Promise.reject(new HttpError(400, "bad Content-Length"));
  if (length > limits.jsonBodyBytes) {
    return Promise.reject(new HttpError(413, `request body is larger than ${limits.jsonBodyBytes} bytes`));
  }
  if (head.length >= length)
    return Promise.resolve({ body: head.subarray(0, length), rest: head.subarray(length) });
  return new Promise((resolve, reject) => {
    let got = head;
    const timer = setTimeout(
      () => done(new HttpError(408, "timed out reading the request body")),
      limits.bodyIdleTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= length) done();
    };
    const onEnd = () => done(new HttpError(400, "the client closed the request"));
    function done(err?: Error) {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      if (err) reject(err);
      else {
        socket.pause();
        resolve({ body: got.subarray(0, length), rest: got.subarray(length) });
      }
    }
    socket.on("data", onData);
    socket.on("end", onEnd);
  });
}

/**
 * Makes a unix socket path ours: a live server there is refused (AlreadyExists, the message names
 * the socket); a socket left by a killed server is removed.
 */
async function claimSocketPath(path: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (live) throw alreadyExists(`another server is already listening on unix://${path}`);
  await unlink(path).catch((err: unknown) => {
    if (errnoCode(err) !== "ENOENT") throw err;
  });
}

/**
 * Reads and drops what is left of a request body, until its end, the connection's close,
 * `maxBytes`, or `idleMs` without data (then the answer goes out anyway).
 */
function drainRequest(req: IncomingMessage, maxBytes: number, idleMs: number): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    let idle = setTimeout(() => done(), idleMs);
    const done = () => {
      clearTimeout(idle);
      req.off("data", onData);
      req.off("end", done);
      req.off("close", done);
      req.off("error", done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      clearTimeout(idle);
      idle = setTimeout(() => done(), idleMs);
      if (seen > maxBytes) done();
    };
    req.on("data", onData);
    req.on("end", done);
    req.on("close", done);
    req.on("error", done);
    req.resume();
  });
}
