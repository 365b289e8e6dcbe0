/**
 * Leases through the real bin/berth: `system prune -af` and `image prune -af` run in a loop while
 * other processes pull (from a registry on 127.0.0.1), load and build the same content again and
 * again. Every pull, load and build must succeed, and whatever it recorded must be whole (its
 * snapshots and blobs on disk) for as long as its record exists; every image left at the end
 * saves and runs.
 */
import assert from "node:assert/strict";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { type MetadataDb, openDatabase } from "../../src/metadata/db.js";
import { LeaseManager } from "../../src/metadata/leases.js";
import { Store } from "./harness.js";
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

/** The layers (chainID, blob) the image `name` (a full reference) is recorded with, if it is. */
function recordedLayers(db: MetadataDb, name: string): Array<{ chain: string; blob: string }> | undefined {
  return db.read(() => {
    const image = db.sqlite.prepare("SELECT image_id FROM refs WHERE name = ?").pluck().get(name);
    if (typeof image !== "string") return undefined;
    return db.sqlite
      .prepare(
        `SELECT l.chain_id AS chain, (SELECT b.blob_digest FROM layer_blobs b WHERE b.diff_id = l.diff_id LIMIT 1) AS blob
         FROM image_layers l WHERE l.image_id = ? ORDER BY l.idx`,
      )
      .all(image)
      .map((row) => {
        const r = row as { chain: unknown; blob: unknown };
        return { chain: String(r.chain), blob: String(r.blob) };
      });
  });
}

/**
 * Checks, while prunes run, that the image `name` is whole if it is recorded: its snapshots and
 * layer blobs exist. The check holds a lease of its own (taken before the second look at the
 * records), so a prune cannot remove the content between that look and the check; an image a
 * prune removed before it is simply gone, which is Docker's answer too.
 */
async function checkWhole(name: string, failures: string[]): Promise<void> {
  const db = openDatabase(`${store.root}/berth.db`, { mustExist: true });
  const lease = new LeaseManager(db).create();
  try {
    const first = recordedLayers(db, name);
    if (!first) return;
    lease.add(
      "snapshot",
      first.map((l) => l.chain),
    );
    lease.add(
      "blob",
      first.map((l) => l.blob),
    );
    const layers = recordedLayers(db, name);
    if (!layers || JSON.stringify(layers) !== JSON.stringify(first)) return;
    for (const l of layers) {
      if (!(await present(`${store.root}/snapshots/${l.chain.slice(7)}/fs`)))
        failures.push(`${name}: snapshot ${l.chain} is gone`);
      if (!(await present(`${store.root}/blobs/sha256/${l.blob.slice(7)}`)))
        failures.push(`${name}: blob ${l.blob} is gone`);
    }
  } finally {
    lease.release();
    db.close();
  }
}

async function present(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
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
