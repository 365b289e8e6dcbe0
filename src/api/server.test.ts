import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type RequestOptions, request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { conflict, notFound } from "../base/errors.js";
import type { Engine } from "../engine/engine.js";
import { Fields, queryFilters } from "./decode.js";
import { readJson, sendJson } from "./http.js";
import { silentLogger } from "./logger.js";
import { Router } from "./router.js";
import { systemRoutes } from "./routes/system.js";
import { type ApiServer, type ApiServerOptions, createApiServer } from "./server.js";
import { frame, frameHeader } from "./streams.js";

/** The server's own behaviour needs no engine: every engine call fails the test. */
const noEngine = new Proxy(
  {},
  {
    get: (_t, name) => () => {
      throw new Error(`unexpected engine call ${String(name)}`);
    },
  },
) as Engine;

const dir = mkdtempSync(join(tmpdir(), "berth-api-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/** One HTTP request with `options`, its body sent whole, its answer read whole. */
function send(options: RequestOptions, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return send({ socketPath, method, path, headers }, body);
}

/** A server on the test router with no engine behind it; `extra` adds or replaces options. */
function testServer(extra: Partial<ApiServerOptions> = {}): ApiServer {
  return createApiServer({
    engine: noEngine,
    logger: silentLogger,
    facts: { version: "test", root: dir, runroot: dir, startedAt: 0 },
    router: testRouter(),
    ...extra,
  });
}

function testRouter(): Router {
  const r = systemRoutes(new Router());
  r.get("/boom", async () => {
    throw new Error("kaboom");
  });
  r.get("/sync-boom", () => {
    throw new TypeError("thrown synchronously");
  });
  r.get("/missing/{id}", async (ctx) => {
    throw notFound(`No such container: ${ctx.params.id}`);
  });
  r.post("/busy", async () => {
    throw conflict("busy");
  });
  r.post("/echo", async (ctx) => {
    const body = new Fields(await readJson(ctx.req, ctx.limits), "");
    sendJson(ctx.res, 200, { name: body.string("Name") ?? null, version: ctx.apiVersion });
  });
  r.get("/images/{name:.*}/json", async (ctx) => {
    sendJson(ctx.res, 200, { name: ctx.params.name });
  });
  return r;
}

test("ping, versions, errors and bounds over a unix socket", async () => {
  const sock = join(dir, "a.sock");
  const server = testServer({ limits: { jsonBodyBytes: 1024 } });
  await server.listen({ kind: "unix", path: sock });
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o660);
    const ping = await call(sock, "GET", "/_ping");
    assert.equal(ping.status, 200);
    assert.equal(ping.body, "OK");
    assert.equal(ping.headers["api-version"], "1.50");
    assert.equal(ping.headers["ostype"], "linux");
    assert.equal(ping.headers["builder-version"], "1");
    assert.equal(ping.headers["docker-experimental"], "false");
    assert.equal(ping.headers["cache-control"], "no-cache, no-store, must-revalidate");
    const head = await call(sock, "HEAD", "/_ping");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");

    // Versioned and unversioned paths; versions outside 1.41–1.50 are refused with Docker's words.
    assert.equal(JSON.parse((await call(sock, "POST", "/v1.43/echo", "{}")).body).version, "1.43");
    assert.equal(JSON.parse((await call(sock, "POST", "/echo", "{}")).body).version, "1.50");
    const old = await call(sock, "GET", "/v1.24/_ping");
    assert.equal(old.status, 400);
    assert.match(JSON.parse(old.body).message, /client version 1.24 is too old/);
    const future = await call(sock, "GET", "/v1.99/_ping");
    assert.equal(future.status, 400);
    assert.match(JSON.parse(future.body).message, /Maximum supported API version is 1.50/);

    // Error kinds become Docker's statuses and body.
    const missing = await call(sock, "GET", "/v1.50/missing/abc");
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { message: "No such container: abc" });
    assert.equal((await call(sock, "POST", "/busy")).status, 409);
    assert.deepEqual(JSON.parse((await call(sock, "GET", "/nowhere")).body), { message: "page not found" });
    assert.equal((await call(sock, "DELETE", "/_ping")).status, 405);

    // A handler's failure is a 500 answer, never a crash; the server keeps serving.
    const boom = await call(sock, "GET", "/boom");
    assert.equal(boom.status, 500);
    assert.deepEqual(JSON.parse(boom.body), { message: "kaboom" });
    assert.equal((await call(sock, "GET", "/sync-boom")).status, 500);

    // Malformed and oversized bodies, wrong field types: 400/413 with a message.
    const bad = await call(sock, "POST", "/echo", "{nope", { "Content-Type": "application/json" });
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /^invalid JSON/);
    const wrongType = await call(sock, "POST", "/echo", '{"Name": 5}');
    assert.equal(wrongType.status, 400);
    assert.match(JSON.parse(wrongType.body).message, /Name must be a string/);
    assert.equal((await call(sock, "POST", "/echo", JSON.stringify({ Name: "x".repeat(2000) }))).status, 413);

    // Greedy parameters take names with slashes; percent-encoding is decoded.
    const img = await call(sock, "GET", "/images/127.0.0.1%3A5000/team/app:1/json");
    assert.deepEqual(JSON.parse(img.body), { name: "127.0.0.1:5000/team/app:1" });

    // Oversized headers are refused before any handler runs.
    const big = await call(sock, "GET", "/_ping", undefined, { "X-Big": "y".repeat(80 * 1024) });
    assert.equal(big.status, 431);
    assert.equal((await call(sock, "GET", "/_ping")).status, 200);

    // A second server on the same socket refuses, naming it; the first keeps serving.
    const second = testServer();
    await assert.rejects(second.listen({ kind: "unix", path: sock }), (err: Error) => {
      assert.match(err.message, /already listening on unix:\/\/.*a\.sock/);
      return true;
    });
    assert.equal((await call(sock, "GET", "/_ping")).status, 200);
  } finally {
    await server.close();
  }
  // close() removes the socket; a stale socket file left by a killed server is taken over.
  assert.throws(() => statSync(sock));
});

test("a stale socket file is replaced; a client that stalls in its headers is cut off", async () => {
  const sock = join(dir, "b.sock");
  writeFileSync(sock, "left by a killed server");
  const first = testServer({ limits: { headersTimeoutMs: 300 } });
  await first.listen({ kind: "unix", path: sock });
  const stalled = connect(sock);
  stalled.write("GET /_ping HTTP/1.1\r\nHost: x\r\n");
  const closedBy = new Promise<string>((resolve) => {
    let got = "";
    stalled.on("data", (d) => {
      got += d.toString();
    });
    stalled.on("close", () => resolve(got));
  });
  // Other clients are served while one stalls.
  assert.equal((await call(sock, "GET", "/_ping")).status, 200);
  assert.match(await closedBy, /408|^$/);
  await first.close();
});

test("query filters and multiplexed frames", () => {
  const q = new URLSearchParams({ filters: JSON.stringify({ status: ["running"], label: { a: true } }) });
  assert.deepEqual(queryFilters(q), { status: ["running"], label: ["a"] });
  assert.throws(() => queryFilters(new URLSearchParams({ filters: "{" })), /invalid filter/);
  assert.deepEqual([...frameHeader(2, 258)], [2, 0, 0, 0, 0, 0, 1, 2]);
  assert.deepEqual([...frame(1, Buffer.from("hi"))], [1, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
});

/** An HTTP request to 127.0.0.1:port with exactly these headers (Host included). */
function callTcp(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Answer> {
  return send({ host: "127.0.0.1", port, method, path, headers, setHost: false });
}

test("a browser listener serves the page beside the API and refuses other origins; other listeners do neither", async () => {
  const page = {
    handles: (path: string) => path === "/",
    serve: (_req: unknown, res: import("node:http").ServerResponse) => {
      res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html>page");
    },
  };
  const server = testServer({ page });
  const sock = join(dir, "browser.sock");
  await server.listen({ kind: "unix", path: sock });
  const where = await server.listen({ kind: "tcp", host: "127.0.0.1", port: 0, browser: true });
  const port = Number(/:(\d+)$/.exec(where)?.[1]);
  try {
    const host = { host: `127.0.0.1:${port}` };
    assert.equal((await callTcp(port, "GET", "/", host)).body, "<!doctype html>page");
    assert.equal((await callTcp(port, "GET", "/_ping", host)).body, "OK");
    const self = { ...host, origin: `http://127.0.0.1:${port}` };
    assert.equal((await callTcp(port, "GET", "/_ping", self)).status, 200);
    // DNS rebinding: the right address under another name.
    const rebound = await callTcp(port, "GET", "/_ping", { host: `attacker.example:${port}` });
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /Host/);
    assert.equal(
      (await callTcp(port, "GET", "/_ping", { ...host, origin: "http://127.0.0.1:1" })).status,
      403,
    );
    // A change needs the page's Origin; the same change from the page's origin reaches the router.
    assert.equal((await callTcp(port, "POST", "/boom", host)).status, 403);
    assert.equal((await callTcp(port, "POST", "/boom", self)).status, 405);
    // The unix socket serves no page and checks no Origin, as dockerd's.
    assert.equal((await call(sock, "GET", "/")).status, 404);
    assert.equal((await call(sock, "GET", "/_ping", undefined, { origin: "http://elsewhere" })).status, 200);
  } finally {
    await server.close();
  }
  await assert.rejects(
    createApiServer({
      engine: noEngine,
      logger: silentLogger,
      facts: { version: "t", root: dir, runroot: dir, startedAt: 0 },
    }).listen({
      kind: "tcp",
      host: "0.0.0.0",
      port: 0,
      browser: true,
    }),
    /only on loopback/,
  );
});
