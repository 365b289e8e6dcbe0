import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { Transport } from "./transport.js";

/**
 * An engine that speaks an older API than berth's newest (a dockerd of an older release, which
 * this machine does not run): its /_ping names its version, and it records the paths asked.
 */
async function olderEngine(version: string | undefined): Promise<{
  sock: string;
  paths: string[];
  close: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "berth-transport-"));
  const sock = join(dir, "engine.sock");
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? "");
    if (version !== undefined) res.setHeader("API-Version", version);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(req.url === "/_ping" ? "OK" : "{}");
  });
  await new Promise<void>((r) => server.listen(sock, () => r()));
  return {
    sock,
    paths,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test("the client negotiates down to an older engine's API version once, by /_ping", async () => {
  const engine = await olderEngine("1.45");
  const t = new Transport({ kind: "unix", path: engine.sock });
  try {
    await t.json({ method: "GET", path: "/containers/json" });
    await t.json({ method: "GET", path: "/images/json" });
    assert.equal(await t.apiVersion(), "1.45");
    assert.deepEqual(engine.paths, ["/_ping", "/v1.45/containers/json", "/v1.45/images/json"]);
  } finally {
    t.close();
    await engine.close();
  }
});

test("a newer engine is spoken to at the client's newest version", async () => {
  const engine = await olderEngine("1.99");
  const t = new Transport({ kind: "unix", path: engine.sock });
  try {
    await t.json({ method: "GET", path: "/info" });
    assert.deepEqual(engine.paths, ["/_ping", "/v1.50/info"]);
  } finally {
    t.close();
    await engine.close();
  }
});

test("an engine older than 1.41, or one that names no version, is refused before any request", async () => {
  for (const v of ["1.40", undefined]) {
    const engine = await olderEngine(v);
    const t = new Transport({ kind: "unix", path: engine.sock });
    try {
      await assert.rejects(
        t.json({ method: "GET", path: "/info" }),
        (err) => isBerthError(err, "Unavailable") && /berth needs 1\.41 or later/.test(err.message),
      );
      assert.deepEqual(engine.paths, ["/_ping"]);
    } finally {
      t.close();
      await engine.close();
    }
  }
});
