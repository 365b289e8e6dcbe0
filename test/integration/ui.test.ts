/**
 * The web view end to end: `berth serve --ui` on a temporary store, driven by a real headless
 * Chromium (Debian's package, through playwright-core; no browser download). The tutorial's
 * image is built, two containers run from it (host ports picked free, never 3000-3003), and the
 * test checks what a user would: the image with its layers and both containers beside it, a
 * container started from the CLI appearing without a reload, the writable-layer warning before a
 * removal, a stop from the page seen by the CLI, and a page on another origin unable to drive
 * the API through the browser. BERTH_UI_SCREENSHOT=PATH saves the page as a PNG there.
 */
import assert from "node:assert/strict";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { Store } from "./harness.js";
import { Serve } from "./serve-helpers.js";

const EXAMPLE = resolve(fileURLToPath(import.meta.url), "../../../../examples/node-app");
const IMAGE = "my-node-app:v1.0";
const CHROMIUM = "/usr/bin/chromium";
/** Chromium without its own connections to the outside (the network rule: loopback only). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A TCP port on 127.0.0.1 that nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

/** Polls `fn` until it returns a value (up to 30 s). */
async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let store: Store;
let serve: Serve;
let context: BrowserContext;
let page: Page;
let url: string;
const ports: number[] = [];

async function state(name: string): Promise<string> {
  return (await store.ok(["inspect", "-f", "{{.State.Status}}", name])).stdout.trim();
}

before(async () => {
  store = await Store.create();
  await store.nodeImage();
  const app = store.path("node-app");
  await cp(EXAMPLE, app, { recursive: true });
  await store.ok(["build", "-t", IMAGE, "."], { cwd: app });
  serve = await Serve.start(store, ["--ui"]);
  await serve.waitForLog(/web view on http:\/\/127\.0\.0\.1:\d+\//);
  const m = /web view on (http:\/\/127\.0\.0\.1:\d+)\//.exec(serve.log);
  assert.ok(m?.[1]);
  url = m[1];
  const profile = store.path("chromium-profile");
  await mkdir(profile);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  await serve?.stop();
  await store?.cleanup();
});

describe("berth serve --ui in Chromium", () => {
  test("the page shows the image as a stack of layers with both containers beside it", async () => {
    for (const name of ["ui-web-1", "ui-web-2"]) {
      const port = await freePort();
      ports.push(port);
      await store.ok(["run", "-d", "--name", name, "-p", `127.0.0.1:${port}:3000`, IMAGE]);
    }
    await page.goto(`${url}/`);
    const image = page.locator(`[data-image="${IMAGE}"]`);
    await image.waitFor();
    // One item per layer of the image, each with the instruction that made it.
    const layerCount = Number(
      (await store.ok(["image", "inspect", "-f", "{{len .RootFS.Layers}}", IMAGE])).stdout,
    );
    assert.ok(layerCount > 1);
    assert.equal(await image.locator(".layer").count(), layerCount);
    const instructions = await image.locator(".layer .instruction").allTextContents();
    assert.ok(
      instructions.some((t) => t.includes("npm install")),
      instructions.join("\n"),
    );
    assert.ok(
      instructions.some((t) => t.startsWith("COPY")),
      instructions.join("\n"),
    );
    // The base image's layers are shared with it.
    assert.ok((await image.locator(".layer.shared").count()) > 0);
    for (const [i, name] of ["ui-web-1", "ui-web-2"].entries()) {
      const card = image.locator(`[data-container="${name}"]`);
      await card.waitFor();
      assert.equal(await card.locator(".state").textContent(), "running");
      assert.equal(await card.locator(".enter code").textContent(), `berth exec -it ${name} sh`);
      const link = card.locator(`a[href="http://127.0.0.1:${ports[i]}/"]`);
      assert.equal(await link.count(), 1);
    }
    // An image in use: what rmi would be refused for is on the page.
    const refusal = await image.locator(".refusal").textContent();
    assert.match(refusal ?? "", /berth rmi my-node-app:v1\.0 would be refused: 2 containers use it/);
  });

  test("a container started from the CLI appears without a reload", async () => {
    await page.evaluate(() => {
      Reflect.set(globalThis, "berthTestMarker", "same page");
    });
    await store.ok(["run", "-d", "--name", "ui-web-3", IMAGE]);
    await page
      .locator(`[data-image="${IMAGE}"] [data-container="ui-web-3"] .state`)
      .getByText("running")
      .waitFor();
    assert.equal(await page.evaluate(() => Reflect.get(globalThis, "berthTestMarker")), "same page");
    // The live region said so.
    await page
      .locator("#live")
      .getByText(/ui-web-3/)
      .waitFor();
    const shot = process.env.BERTH_UI_SCREENSHOT;
    if (shot) {
      await page.locator(`[data-container="ui-web-2"]`).waitFor();
      await writeFile(shot, await page.screenshot({ fullPage: true }));
    }
  });

  test("the writable layer's loss is shown before a removal, and nothing goes until confirmed", async () => {
    await store.ok(["exec", "ui-web-2", "sh", "-c", "echo kept-only-here > /app/notes.txt"]);
    const card = page.locator(`[data-container="ui-web-2"]`);
    await card.getByText(/rm would lose/).waitFor();
    await page.getByRole("button", { name: "Remove ui-web-2" }).click();
    const dialog = page.getByRole("dialog");
    const warning = dialog.locator('[data-warning="writable-layer"]');
    await warning.waitFor();
    assert.match((await warning.textContent()) ?? "", /\/app\/notes\.txt/);
    // The dialog is up and the container is still there.
    assert.equal(await state("ui-web-2"), "running");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    assert.equal(await state("ui-web-2"), "running");
    // Now confirm it: stopped and removed (as rm -f), gone from the CLI and the page.
    await page.getByRole("button", { name: "Remove ui-web-2" }).click();
    await dialog.getByRole("button", { name: "Stop and remove ui-web-2" }).click();
    await until("ui-web-2 removed", async () => {
      const r = await store.berth(["inspect", "ui-web-2"]);
      return r.code !== 0 ? true : undefined;
    });
    await card.waitFor({ state: "detached" });
  });

  test("stopping a container from the page stops it (seen through the CLI)", async () => {
    const stop = page.getByRole("button", { name: "Stop ui-web-1" });
    await stop.focus();
    await page.keyboard.press("Enter");
    await until("ui-web-1 stopped", async () => ((await state("ui-web-1")) === "exited" ? true : undefined));
    await page.locator(`[data-container="ui-web-1"] .state`).getByText("exited").waitFor();
  });

  test("a page on another origin cannot drive the API through the browser", async () => {
    // The app of ui-web-3's sibling answers on its published port: another origin on 127.0.0.1.
    await store.ok(["start", "ui-web-1"]);
    await until("ui-web-1 answering", async () => {
      const r = await fetch(`http://127.0.0.1:${ports[0]}/`).catch(() => undefined);
      return r?.ok ? true : undefined;
    });
    const other = await context.newPage();
    await other.goto(`http://127.0.0.1:${ports[0]}/`);
    const answers = await other.evaluate(async (ui) => {
      const out: string[] = [];
      for (const mode of ["cors", "no-cors"] as const) {
        try {
          const r = await fetch(`${ui}/v1.50/containers/ui-web-3/stop`, { method: "POST", mode });
          out.push(`${mode}:${r.status}`);
        } catch (err) {
          out.push(`${mode}:${String(err)}`);
        }
      }
      return out;
    }, url);
    await other.close();
    assert.equal(answers.length, 2);
    assert.equal(await state("ui-web-3"), "running");
    assert.match(serve.log, /refused: a request from origin/);
  });
});

describe("berth serve --ui: logs and prune", () => {
  test("logs follow: a line the app writes later shows up in the open dialog; Escape closes it", async () => {
    await page.bringToFront();
    await page.getByRole("button", { name: "Logs of ui-web-1" }).click();
    const log = page.getByRole("dialog").locator("pre.logs");
    await log
      .getByText(/my-node-app listening on port 3000/)
      .first()
      .waitFor();
    const marker = `/from-the-test-${Date.now()}`;
    const res = await fetch(`http://127.0.0.1:${ports[0]}${marker}`);
    assert.equal(res.status, 200);
    await log.getByText(marker).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "hidden" });
  });

  test("prune asks first, naming the stopped containers, then removes them", async () => {
    await store.ok(["stop", "ui-web-3"]);
    await page.locator(`[data-container="ui-web-3"] .state`).getByText("exited").waitFor();
    await page.getByRole("button", { name: "Prune…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText(/1 stopped container: ui-web-3/).waitFor();
    assert.equal(await state("ui-web-3"), "exited");
    await dialog.getByRole("button", { name: "Prune", exact: true }).click();
    await until("ui-web-3 pruned", async () =>
      (await store.berth(["inspect", "ui-web-3"])).code !== 0 ? true : undefined,
    );
    await page.locator(`[data-container="ui-web-3"]`).waitFor({ state: "detached" });
    assert.equal(await state("ui-web-1"), "running");
  });
});
