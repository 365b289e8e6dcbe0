/**
 * Leases through the real bin/berth: `system prune -af` and `image prune -af` run in a loop while
 * other processes pull (from a registry on 127.0.0.1), load and build the same content again and
 * again. Every pull, load and build must succeed, and whatever it recorded must be whole: a
 * container runs from it (unless a prune removed the image in between, which is Docker's answer
 * too), and every image left at the end saves and runs.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { openDatabase } from "../../src/metadata/db.js";
import { type RunResult, Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";

let store: Store;
let registry: TestRegistry;
let remote: string;
let archive: string;
let context: string;

before(async () => {
  store = await Store.create();
  await store.busybox();
  registry = await startRegistry(store.path("registry"));
  // busybox stays in use by a running container, so prune -a keeps the builds' base.
  await store.ok(["run", "-d", "--name", "keeper", "busybox", "sleep", "3600"]);
  // An image whose layers exist nowhere else in the store: pushed, saved, then removed.
  context = store.path("ctx");
  await mkdir(context, { recursive: true });
  await writeFile(`${context}/Dockerfile`, "FROM busybox\nRUN echo leased > /greeting\n");
  await store.ok(["build", "--progress=plain", "-t", "lease-src:1", context]);
  remote = `${registry.host}/lease/greeting:1`;
  await store.ok(["tag", "lease-src:1", remote]);
  await store.ok(["push", remote]);
  archive = store.path("greeting.tar");
  await store.ok(["save", "-o", archive, "lease-src:1"]);
  await store.ok(["rmi", "lease-src:1", remote]);
  await store.ok(["builder", "prune", "-af"]);
});
after(async () => {
  await registry?.stop();
  await store?.cleanup();
});

/** A failure a concurrent prune may legitimately cause: the image or container went first. */
function removedMeanwhile(r: RunResult): boolean {
  return /No such (image|container)/.test(r.stderr);
}

/** Runs IMAGE's /greeting; the image must be whole whenever it is still there. */
async function checkWhole(image: string, failures: string[]): Promise<void> {
  const r = await store.berth(["run", "--rm", "--pull", "never", image, "cat", "/greeting"]);
  if (r.code === 0) {
    if (r.stdout !== "leased\n") failures.push(`run ${image}: printed ${JSON.stringify(r.stdout)}`);
  } else if (!removedMeanwhile(r)) {
    failures.push(`run ${image} exited ${r.code}: ${r.stderr}`);
  }
}

describe("leases", () => {
  test("prunes in a loop beside repeated pulls, loads and builds lose nothing", async () => {
    const failures: string[] = [];
    let working = true;
    let prunes = 0;
    const pruning = (async () => {
      while (working) {
        for (const args of [
          ["system", "prune", "-af"],
          ["image", "prune", "-af"],
        ]) {
          const r = await store.berth(args);
          if (r.code !== 0) failures.push(`${args.join(" ")} exited ${r.code}: ${r.stderr}`);
          prunes++;
        }
      }
    })();
    const repeat = async (n: number, what: string, args: () => string[], image: string) => {
      for (let i = 0; i < n; i++) {
        const r = await store.berth(args());
        if (r.code !== 0) {
          failures.push(`${what} #${i} exited ${r.code}: ${r.stderr}`);
          continue;
        }
        await checkWhole(image, failures);
      }
    };
    try {
      await Promise.all([
        repeat(4, "pull", () => ["pull", "-q", remote], remote),
        repeat(4, "load", () => ["load", "-q", "-i", archive], "lease-src:1"),
        repeat(
          3,
          "build",
          () => ["build", "--progress=plain", "-t", "lease-built:1", context],
          "lease-built:1",
        ),
      ]);
    } finally {
      working = false;
      await pruning;
    }
    assert.deepEqual(failures, []);
    assert.ok(prunes >= 2, `only ${prunes} prunes ran`);

    // Quiet again: one more of each, and every image left is whole (saves and runs).
    await store.ok(["pull", "-q", remote]);
    await store.ok(["load", "-q", "-i", archive]);
    await store.ok(["build", "--progress=plain", "-t", "lease-built:1", context]);
    const images = (await store.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout
      .split("\n")
      .filter((l) => l !== "" && !l.endsWith(":<none>"));
    for (const image of [remote, "lease-src:1", "lease-built:1"]) assert.ok(images.includes(image), image);
    for (const image of images) {
      await store.ok(["save", "-o", store.path("check.tar"), image]);
      if (image !== "busybox:latest") {
        const r = await store.ok(["run", "--rm", "--pull", "never", image, "cat", "/greeting"]);
        assert.equal(r.stdout, "leased\n", image);
      }
    }
    // No lease outlives its operation.
    const db = openDatabase(`${store.root}/berth.db`, { mustExist: true });
    try {
      assert.equal(db.sqlite.prepare("SELECT COUNT(*) FROM leases").pluck().get(), 0);
    } finally {
      db.close();
    }
  });
});
