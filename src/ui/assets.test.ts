import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { loadUiPage, PAGE_POLICY } from "./assets.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test("the page's files are served with a policy that loads nothing from elsewhere", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ui-"));
  dirs.push(dir);
  await writeFile(join(dir, "index.html"), "<!doctype html>");
  await writeFile(join(dir, "app.js"), "void 0;");
  await writeFile(join(dir, "app.css"), "body{}");
  const page = await loadUiPage(dir);
  assert.ok(page.handles("/") && page.handles("/ui/app.js") && page.handles("/ui/app.css"));
  assert.ok(!page.handles("/containers/json") && !page.handles("/ui/other.js"));
  const server = createServer((req, res) =>
    page.serve(req, res, new URL(req.url ?? "/", "http://x").pathname),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const get = (path: string, method = "GET") =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path, method }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
        .on("error", reject)
        .end();
    });
  try {
    const js = await get("/ui/app.js");
    assert.equal(js.body, "void 0;");
    assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
    const html = await get("/");
    assert.equal(html.headers["content-security-policy"], PAGE_POLICY);
    assert.match(PAGE_POLICY, /default-src 'none'/);
    assert.match(PAGE_POLICY, /frame-ancestors 'none'/);
    assert.equal(html.headers["x-frame-options"], "DENY");
    assert.equal((await get("/", "POST")).status, 405);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("a build without the page's files is refused at start-up, naming the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ui-"));
  dirs.push(dir);
  await assert.rejects(
    loadUiPage(dir),
    (err) => isBerthError(err, "NotFound") && /index\.html/.test(err.message),
  );
});
