import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { download, isGitUrl, urlFileName } from "./download.js";

const body = Buffer.from("hello from 127.0.0.1\n".repeat(1000));
const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
let server: Server;
let base: string;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-download-"));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const hops = Number(url.searchParams.get("hops") ?? "0");
    switch (url.pathname) {
      case "/files/app.txt":
        res.writeHead(200, {
          "Content-Length": body.length,
          "Last-Modified": "Tue, 15 Nov 1994 08:12:31 GMT",
        });
        res.end(body);
        return;
      case "/redirect":
        res.writeHead(302, { Location: hops > 0 ? `/redirect?hops=${hops - 1}` : "/files/app.txt" });
        res.end();
        return;
      case "/to-file":
        res.writeHead(302, { Location: "file:///etc/passwd" });
        res.end();
        return;
      case "/short":
        res.writeHead(200, { "Content-Length": 1000 });
        res.write(Buffer.alloc(10));
        res.destroy();
        return;
      case "/endless":
        res.writeHead(200);
        res.write(Buffer.alloc(1 << 16));
        res.write(Buffer.alloc(1 << 16));
        res.end();
        return;
      case "/slow":
        res.writeHead(200);
        res.write("x");
        return; // never ends
      case "/missing":
        res.writeHead(404);
        res.end();
        return;
      default:
        res.writeHead(200);
        res.end("index");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

async function refuses(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err), String(err));
    assert.match(err.message, re);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.deepEqual(await readdir(dir), [], "nothing left behind");
}

describe("ADD downloads", () => {
  test("writes the body (0600), names it after the URL, takes Last-Modified, reports progress", async () => {
    const lines: string[] = [];
    const d = await download(`${base}/files/app.txt`, { dir, progress: (l) => lines.push(l) });
    try {
      assert.equal(d.name, "app.txt");
      assert.equal(d.digest, digest);
      assert.deepEqual(await readFile(d.path), body);
      const st = await stat(d.path);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.mtime.toISOString(), "1994-11-15T08:12:31.000Z");
      assert.equal(d.mtime?.toISOString(), "1994-11-15T08:12:31.000Z");
      assert.match(lines[0] ?? "", /^downloading http:\/\/127\.0\.0\.1:\d+\/files\/app\.txt \(21\.00kB\)$/);
      assert.match(lines.at(-1) ?? "", new RegExp(`^downloaded 21.00kB ${digest}$`));
    } finally {
      await rm(d.path);
    }
  });

  test("verifies --checksum", async () => {
    const d = await download(`${base}/files/app.txt`, { dir, expected: digest });
    await rm(d.path);
    await refuses(
      download(`${base}/files/app.txt`, { dir, expected: `sha256:${"0".repeat(64)}` }),
      /digest mismatch: expected sha256:0{64}, got sha256:/,
    );
    await refuses(download(`${base}/files/app.txt`, { dir, expected: "md5:abc" }), /invalid checksum digest/);
  });

  test("follows at most 10 redirects, and only to http(s)", async () => {
    const d = await download(`${base}/redirect?hops=9`, { dir });
    assert.equal(d.digest, digest);
    assert.equal(d.name, "redirect", "named after the URL asked for, as BuildKit");
    await rm(d.path);
    await refuses(download(`${base}/redirect?hops=10`, { dir }), /stopped after 10 redirects/);
    await refuses(download(`${base}/to-file`, { dir }), /unsupported URL scheme file/);
  });

  test("bounds size and time; refuses short bodies and error statuses", async () => {
    await refuses(
      download(`${base}/files/app.txt`, { dir, maxBytes: 100 }),
      /21000 bytes is more than the limit of 100/,
    );
    await refuses(
      download(`${base}/endless`, { dir, maxBytes: 100_000 }),
      /more than the limit of 100000 bytes/,
    );
    await refuses(download(`${base}/slow`, { dir, timeoutMs: 300 }), /took longer than 0.3 s/);
    await refuses(download(`${base}/short`, { dir }), /ADD http:\/\/127\.0\.0\.1:\d+\/short: /);
    await refuses(download(`${base}/missing`, { dir }), /invalid response status 404/);
  });

  test("file names and git URLs", () => {
    assert.equal(urlFileName("https://example.invalid/a/b/c.tar.gz?x=1"), "c.tar.gz");
    assert.equal(urlFileName("https://example.invalid/"), "__unnamed__");
    assert.equal(urlFileName("https://example.invalid/dir/"), "dir");
    assert.equal(urlFileName("https://example.invalid/a%20b"), "a b");
    for (const g of ["git@github.com:moby/moby.git", "https://h.invalid/x/y.git", "git://h.invalid/r"]) {
      assert.ok(isGitUrl(g), g);
    }
    assert.ok(!isGitUrl("https://h.invalid/file.tar"));
  });
});
