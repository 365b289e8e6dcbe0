/**
 * `berth image analyze` through the real bin/berth: a built image whose later layer deletes a
 * file an earlier one wrote reports that file's bytes as waste, in the report, in JSON and in
 * the CI mode's exit status.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { Store } from "./harness.js";

const BIG = 300_000;

describe("image analyze", () => {
  let store: Store;
  before(async () => {
    store = await Store.create();
    await store.busybox();
    const ctx = store.path("ctx");
    await mkdir(ctx, { recursive: true });
    await writeFile(
      store.path("ctx", "Dockerfile"),
      [
        "FROM busybox",
        `RUN head -c ${BIG} /dev/zero > /big && echo one > /app.txt`,
        "RUN rm /big && echo two > /app.txt",
        "",
      ].join("\n"),
    );
    await store.ok(["build", "-q", "-t", "wasteful", ctx]);
  });
  after(async () => {
    await store.cleanup();
  });

  it("reports per layer what was added and removed, the waste and the efficiency", async () => {
    const r = await store.ok(["image", "analyze", "wasteful"]);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^Image: {7}wasteful:latest \([0-9a-f]{12}\)$/m);
    assert.match(r.stdout, /^Efficiency: {2}\d+\.\d\d%$/m);
    // The layer table: the RUN that wrote /big and the one that removed it.
    assert.match(r.stdout, /^1 +300kB +2 +0 +0 +RUN \/bin\/sh -c head -c 300000/m);
    assert.match(r.stdout, /^2 +\d+B +0 +1 +1 +RUN \/bin\/sh -c rm \/big/m);
    assert.match(r.stdout, /^2 +300kB +\/big$/m);

    const j = await store.ok(["image", "analyze", "--format", "json", "wasteful"]);
    const a: unknown = JSON.parse(j.stdout);
    assert.ok(typeof a === "object" && a !== null);
    const get = (k: string): unknown => (a as Record<string, unknown>)[k];
    const layers = get("Layers");
    assert.ok(Array.isArray(layers) && layers.length === 3);
    const top: unknown = layers[2];
    assert.ok(typeof top === "object" && top !== null && "Changes" in top);
    assert.deepEqual(top.Changes, [
      { Kind: "C", Path: "/app.txt", Size: 4 },
      { Kind: "D", Path: "/big", Size: BIG },
    ]);
    assert.deepEqual(get("RepoTags"), ["wasteful:latest"]);
    const ineff = get("Inefficiencies");
    assert.ok(Array.isArray(ineff));
    assert.deepEqual(ineff[0], { Path: "/big", Count: 2, WastedBytes: BIG });
    // /app.txt is written twice (4 bytes each): every copy counts, as dive counts it.
    assert.equal(get("WastedBytes"), BIG + 8);
    const eff = get("Efficiency");
    assert.ok(typeof eff === "number" && eff > 0 && eff < 1);

    const t = await store.ok([
      "image",
      "analyze",
      "--format",
      "{{.WastedBytes}} {{len .Layers}}",
      "wasteful",
    ]);
    assert.equal(t.stdout, `${BIG + 8} 3\n`);
  });

  it("CI mode exits 1 with a one-line reason when a threshold is crossed, 0 when none is", async () => {
    const w = await store.berth(["image", "analyze", "--highest-wasted-bytes", "100kB", "wasteful"]);
    assert.equal(w.code, 1);
    assert.match(
      w.stderr,
      /^image analyze: 300kB \(300008 bytes\) wasted is above --highest-wasted-bytes 100kB\n$/,
    );
    assert.match(w.stdout, /^Efficiency:/m);

    const e = await store.berth(["image", "analyze", "--lowest-efficiency", "0.99", "wasteful"]);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /^image analyze: efficiency \d+\.\d\d% is below --lowest-efficiency 0\.99\n$/);

    const ci = await store.berth(["image", "analyze", "--ci", "--format", "json", "wasteful"]);
    assert.equal(ci.code, 1);
    assert.match(ci.stderr, /--highest-user-wasted-percent 0\.1/);

    const pass = await store.berth(["image", "analyze", "--highest-wasted-bytes", "1MB", "wasteful"]);
    assert.deepEqual([pass.code, pass.stderr], [0, ""]);
    const base = await store.berth(["image", "analyze", "--ci", "busybox"]);
    assert.deepEqual([base.code, base.stderr], [0, ""]);
  });

  it("bad thresholds and missing images are one-line errors", async () => {
    const bad = await store.berth(["image", "analyze", "--lowest-efficiency", "2", "wasteful"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid argument "2" for "--lowest-efficiency" flag/);
    assert.equal(bad.stdout, "");
    const size = await store.berth(["image", "analyze", "--highest-wasted-bytes", "lots", "wasteful"]);
    assert.equal(size.code, 125);
    assert.match(size.stderr, /invalid argument "lots" for "--highest-wasted-bytes" flag/);
    const missing = await store.berth(["image", "analyze", "nosuch"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such image: nosuch/);
  });
});
