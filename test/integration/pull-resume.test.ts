/**
 * Resumable pulls through the real bin/berth against Debian's docker-registry on 127.0.0.1: a
 * pull killed with SIGKILL half-way through a large layer leaves a partial download (never a
 * blob, never an image); the next pull asks for the rest with a `Range` request (seen by a small
 * loopback proxy in front of the registry, which holds the layer's bytes at a known point so the
 * kill comes after exactly that many bytes, waited for on disk) and ends with the image ID an
 * uninterrupted pull gives. Traffic goes only to 127.0.0.1.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { BERTH, Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";

const BIG = 24_000_000;
/** Bytes of a large blob the proxy lets through before it holds the rest back. */
const HOLD_AT = 9_000_000;

interface ProxyLogEntry {
  readonly method: string;
  readonly url: string;
  readonly range: string | undefined;
  readonly status: number;
  readonly length: number;
}

/** A loopback HTTP proxy to the registry that logs requests and can hold large blob bodies. */
async function startProxy(target: number) {
  const log: ProxyLogEntry[] = [];
  let holding = true;
  /** Held blob downloads whose client has not gone away yet. */
  let held = 0;
  const server: Server = createServer((req, res) => {
    const range = typeof req.headers.range === "string" ? req.headers.range : undefined;
    const up = request(
      { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        const length = Number(upRes.headers["content-length"] ?? "0");
        log.push({
          method: req.method ?? "",
          url: req.url ?? "",
          range,
          status: upRes.statusCode ?? 0,
          length,
        });
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (
          !(holding && req.method === "GET" && /\/blobs\/sha256:/.test(req.url ?? "") && length > HOLD_AT)
        ) {
          upRes.pipe(res);
          return;
        }
        // Let HOLD_AT bytes through, then hold the rest until the client goes away.
        held++;
        let sent = 0;
        upRes.on("data", (chunk: Buffer) => {
          if (sent >= HOLD_AT) return;
          const part = chunk.subarray(0, HOLD_AT - sent);
          sent += part.byteLength;
          res.write(part);
          if (sent >= HOLD_AT) upRes.pause();
        });
        res.on("close", () => {
          held--;
          upRes.destroy();
        });
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, () => r()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    log,
    get held() {
      return held;
    },
    release() {
      holding = false;
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const until = (what: string, fn: () => Promise<boolean>, ms = 60_000) => waitFor(what, fn, ms, 50);

/** Sizes of the resumable partial downloads of a store (`ingest/r-*\/data`). */
async function partials(store: Store): Promise<number[]> {
  const dir = join(store.root, "ingest");
  const names = await readdir(dir).catch(() => [] as string[]);
  const sizes: number[] = [];
  for (const n of names.filter((x) => x.startsWith("r-"))) {
    const st = await stat(join(dir, n, "data")).catch(() => undefined);
    if (st) sizes.push(st.size);
  }
  return sizes;
}

describe("resumable pull", () => {
  let source: Store;
  let target: Store;
  let plain: Store;
  let registry: TestRegistry;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let imageId: string;
  before(async () => {
    source = await Store.create();
    target = await Store.create();
    plain = await Store.create();
    await source.busybox();
    registry = await startRegistry(source.path("registry"));
    proxy = await startProxy(registry.port);
    const ctx = source.path("ctx");
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, "Dockerfile"), `FROM busybox\nRUN head -c ${BIG} /dev/urandom > /big\n`);
    const ref = `${registry.host}/test/big:1`;
    await source.ok(["build", "-q", "-t", ref, ctx]);
    await source.ok(["push", "-q", ref]);
    imageId = (await source.ok(["inspect", "--format", "{{.Id}}", ref])).stdout.trim();
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    for (const s of [source, target, plain]) await s?.cleanup();
  });

  it("a pull killed half-way through a layer resumes it with a Range request and ends with the same image", async () => {
    const ref = `${proxy.host}/test/big:1`;
    const [cmd = BERTH, ...args] = target.argv(["pull", ref]);
    const child = spawn(cmd, args, { stdio: "ignore", env: { ...process.env, ...target.env } });
    const exited = new Promise<string | null>((r) => child.on("exit", (_code, signal) => r(signal)));
    // The proxy holds the layer after HOLD_AT bytes: wait until they are all on disk, then kill.
    await until("the partial layer on disk", async () => (await partials(target)).some((n) => n === HOLD_AT));
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");
    // The download ends with the pull: the killed CLI's own, or (remote mode, where the process
    // killed is the client) the server's, which cancels a pull whose client went away, as dockerd.
    await until("the held download closed", async () => proxy.held === 0);

    // Nothing of the killed pull is an image or a blob; the partial download is kept.
    assert.equal((await target.ok(["images", "-q"])).stdout, "");
    assert.deepEqual(await partials(target), [HOLD_AT]);
    const bigBlob = proxy.log.find((e) => e.method === "GET" && e.length > HOLD_AT);
    assert.ok(bigBlob, "the big layer was requested");

    proxy.release();
    const resumed = await target.berth(["pull", ref]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /: Resuming download at 9MB of 24(\.\d+)?MB\n/);
    const ranged = proxy.log.filter((e) => e.range !== undefined);
    assert.deepEqual(
      ranged.map((e) => [e.url, e.range, e.status]),
      [[bigBlob.url, `bytes=${HOLD_AT}-`, 206]],
    );
    assert.equal((await target.ok(["inspect", "--format", "{{.Id}}", ref])).stdout.trim(), imageId);
    assert.deepEqual(await partials(target), [], "the partial became the blob");

    // An uninterrupted pull of the same image into another store: the same image ID.
    await plain.ok(["pull", ref]);
    assert.equal((await plain.ok(["inspect", "--format", "{{.Id}}", ref])).stdout.trim(), imageId);
    // The resumed layer unpacked whole.
    const size = await target.ok(["run", "--rm", ref, "wc", "-c", "/big"]);
    assert.equal(size.stdout.trim(), `${BIG} /big`);
  });
});
