/** openDatabase on real files: schema, migrations, transactions, and several writer processes. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { parseDigest } from "../oci/digest.js";
import { openDatabase, SCHEMA_VERSION } from "./db.js";
import { ImageMetadata } from "./images.js";

const dbModuleUrl = new URL("./db.js", import.meta.url).href;
const imagesModuleUrl = new URL("./images.js", import.meta.url).href;

const IMAGE = parseDigest(`sha256:${"c".repeat(64)}`);

function tableNames(db: ReturnType<typeof openDatabase>): string[] {
  return db.sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => String((r as { name: unknown }).name));
}

describe("openDatabase", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-db-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("creates missing parent directories, the schema, WAL mode and foreign keys", async () => {
    const path = join(dir, "nested", "deeper", "berth.db");
    const db = openDatabase(path);
    try {
      assert.ok((await stat(path)).isFile());
      assert.deepEqual(tableNames(db), [
        "build_cache",
        "build_steps",
        "container_layers",
        "container_volumes",
        "containers",
        "endpoints",
        "events",
        "image_layers",
        "images",
        "layer_blobs",
        "lease_resources",
        "leases",
        "networks",
        "published_ports",
        "refs",
        "snapshots",
        "sqlite_sequence",
        "volumes",
      ]);
      assert.equal(db.sqlite.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(db.sqlite.pragma("foreign_keys", { simple: true }), 1);
      assert.equal(db.sqlite.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  test("migrations are idempotent: opening twice (also at once) keeps version and data", () => {
    const path = join(dir, "berth.db");
    const first = openDatabase(path);
    new ImageMetadata(first).putImage(
      { id: IMAGE, manifestDigest: undefined, parentId: "", created: "", size: 0, labels: {}, layers: [] },
      1,
    );
    const second = openDatabase(path);
    try {
      assert.equal(second.sqlite.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      assert.equal(new ImageMetadata(second).getImage(IMAGE)?.id, IMAGE);
      first.close();
      const third = openDatabase(path);
      assert.equal(third.sqlite.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(tableNames(third), tableNames(second));
      assert.equal(new ImageMetadata(third).listImages().length, 1);
      third.close();
    } finally {
      second.close();
    }
  });

  test("write() commits on return and rolls everything back on a throw", () => {
    const db = openDatabase(join(dir, "berth.db"));
    try {
      const meta = new ImageMetadata(db);
      const result = db.write(() => {
        meta.putImage(
          {
            id: IMAGE,
            manifestDigest: undefined,
            parentId: "",
            created: "",
            size: 0,
            labels: {},
            layers: [],
          },
          1,
        );
        return 42;
      });
      assert.equal(result, 42);
      assert.throws(
        () =>
          db.write(() => {
            meta.setRef("docker.io/library/a:latest", IMAGE, "tag", 1);
            meta.deleteImage(IMAGE);
            throw new Error("boom");
          }),
        /boom/,
      );
      assert.equal(meta.getImage(IMAGE)?.id, IMAGE, "the delete was rolled back");
      assert.equal(meta.getRef("docker.io/library/a:latest"), undefined, "the ref was rolled back");
      assert.equal(
        db.read(() => meta.listImages().length),
        1,
      );
    } finally {
      db.close();
    }
  });

  test("a foreign key violation (a ref to an image that does not exist) is refused", () => {
    const db = openDatabase(join(dir, "berth.db"));
    try {
      assert.throws(() => new ImageMetadata(db).setRef("docker.io/library/x:1", IMAGE, "tag", 1));
    } finally {
      db.close();
    }
  });

  test("a path that cannot be a database is Unavailable", async () => {
    // A directory where the file should be.
    const path = join(dir, "adir");
    await mkdir(path);
    assert.throws(
      () => openDatabase(path),
      (err: unknown) => isBerthError(err, "Unavailable"),
    );
  });

  test("four processes writing 50 transactions each at once lose nothing", async () => {
    const path = join(dir, "berth.db");
    const setup = openDatabase(path);
    new ImageMetadata(setup).putImage(
      { id: IMAGE, manifestDigest: undefined, parentId: "", created: "", size: 0, labels: {}, layers: [] },
      1,
    );
    setup.close();

    const script = join(dir, "writer.mjs");
    await writeFile(
      script,
      [
        `import { openDatabase } from ${JSON.stringify(dbModuleUrl)};`,
        `import { ImageMetadata } from ${JSON.stringify(imagesModuleUrl)};`,
        "const [path, worker, image] = process.argv.slice(2);",
        "const db = openDatabase(path);",
        "const meta = new ImageMetadata(db);",
        "for (let i = 0; i < 50; i++) {",
        "  db.write(() => {",
        "    const name = 'docker.io/library/w' + worker + ':t' + i;",
        "    meta.setRef(name, image, 'tag', Date.now());",
        "    // Read-modify-write inside the transaction: a lost update would show as a missing ref.",
        "    if (!meta.getRef(name)) throw new Error('ref vanished');",
        "  });",
        "}",
        "db.close();",
      ].join("\n"),
    );
    const children = [0, 1, 2, 3].map((n) => {
      const proc = spawn(process.execPath, [script, path, String(n), IMAGE], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      proc.stderr?.setEncoding("utf8").on("data", (s: string) => {
        stderr += s;
      });
      return once(proc, "exit").then(([code]) => ({ code, stderr }));
    });
    for (const r of await Promise.all(children)) assert.equal(r.code, 0, r.stderr);

    const db = openDatabase(path);
    try {
      const refs = new ImageMetadata(db).allRefs();
      assert.equal(refs.length, 200);
      const names = new Set(refs.map((r) => r.name));
      for (let w = 0; w < 4; w++) {
        for (let i = 0; i < 50; i++) assert.ok(names.has(`docker.io/library/w${w}:t${i}`), `w${w}:t${i}`);
      }
      assert.equal(db.sqlite.pragma("integrity_check", { simple: true }), "ok");
      assert.deepEqual(db.sqlite.pragma("foreign_key_check"), []);
    } finally {
      db.close();
    }
  });
});
