/** The ContentStore behaviour suite, run against every implementation. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, test } from "node:test";
import { collect } from "../base/async.js";
import { type ErrorKind, isBerthError } from "../base/errors.js";
import { sha256Digest } from "../oci/digest.js";
import type { ContentStore } from "./content-store.js";
import { LocalContentStore } from "./local-content-store.js";
import { MemoryContentStore } from "./memory-content-store.js";

interface Harness {
  readonly store: ContentStore;
  /** How many partial writes the store holds (always 0 for stores without persistent ingest). */
  ingestEntries(): Promise<number>;
  cleanup(): Promise<void>;
}

const implementations: { name: string; create(): Promise<Harness> }[] = [
  {
    name: "MemoryContentStore",
    async create() {
      return { store: new MemoryContentStore(), ingestEntries: async () => 0, cleanup: async () => {} };
    },
  },
  {
    name: "LocalContentStore",
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "berth-content-"));
      const store = LocalContentStore.fromRoots({ root: dir, runroot: join(dir, "run") });
      return {
        store,
        async ingestEntries() {
          try {
            return (await readdir(store.paths.ingest)).length;
          } catch {
            return 0;
          }
        },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
];

function expectKind(kind: ErrorKind, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(isBerthError(err, kind), `expected a BerthError of kind ${kind}, got ${String(err)}`);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  };
}

/** A Readable that yields `chunks` then waits forever (until destroyed). */
function hangingSource(chunks: Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i < chunks.length) this.push(chunks[i++]);
    },
  });
}

for (const impl of implementations) {
  describe(`ContentStore: ${impl.name}`, () => {
    let h: Harness;
    let store: ContentStore;
    beforeEach(async () => {
      h = await impl.create();
      store = h.store;
    });
    afterEach(() => h.cleanup());

    test("writes from bytes and reads back", async () => {
      const data = Buffer.from('{"schemaVersion":2}');
      const digest = sha256Digest(data);
      assert.deepEqual(await store.writeBlob(data), { digest, size: data.byteLength });
      assert.equal(await store.hasBlob(digest), true);
      assert.equal((await store.statBlob(digest))?.size, data.byteLength);
      assert.deepEqual(await store.readBlob(digest, { maxBytes: 1024 }), data);
      assert.deepEqual(await buffer(store.openBlob(digest)), data);
    });

    test("writes from a stream of many chunks with expected digest and size", async () => {
      const chunks = Array.from({ length: 40 }, () => randomBytes(10_000));
      const all = Buffer.concat(chunks);
      const digest = sha256Digest(all);
      const info = await store.writeBlob(Readable.from(chunks), { expected: digest, size: all.byteLength });
      assert.deepEqual(info, { digest, size: all.byteLength });
      assert.deepEqual(await buffer(store.openBlob(digest)), all);
      assert.equal(await h.ingestEntries(), 0);
    });

    test("writes the empty blob", async () => {
      const digest = sha256Digest("");
      assert.deepEqual(await store.writeBlob(Readable.from([])), { digest, size: 0 });
      assert.equal((await store.statBlob(digest))?.size, 0);
      assert.equal((await buffer(store.openBlob(digest))).byteLength, 0);
    });

    test("a wrong digest is rejected and nothing is stored", async () => {
      const data = Buffer.from("layer bytes");
      const wrong = sha256Digest("other bytes");
      await assert.rejects(
        store.writeBlob(Readable.from([data]), { expected: wrong }),
        expectKind(
          "InvalidArgument",
          new RegExp(`^unexpected commit digest ${sha256Digest(data)}, expected ${wrong}$`),
        ),
      );
      assert.equal(await store.hasBlob(wrong), false);
      assert.equal(await store.hasBlob(sha256Digest(data)), false);
      assert.deepEqual(await collect(store.listBlobs()), []);
      assert.equal(await h.ingestEntries(), 0);
    });

    test("a wrong size is rejected and nothing is stored", async () => {
      const data = Buffer.from("0123456789");
      await assert.rejects(
        store.writeBlob(data, { size: 11 }),
        expectKind("InvalidArgument", /^unexpected commit size 10, expected 11$/),
      );
      await assert.rejects(
        store.writeBlob(Readable.from([data, data]), { size: 15 }),
        expectKind("InvalidArgument", /^unexpected commit size 20, expected 15$/),
      );
      await assert.rejects(store.writeBlob(data, { size: -1 }), expectKind("InvalidArgument"));
      assert.deepEqual(await collect(store.listBlobs()), []);
      assert.equal(await h.ingestEntries(), 0);
    });

    test("writing a blob that already exists succeeds and keeps one blob", async () => {
      const data = randomBytes(5000);
      const digest = sha256Digest(data);
      await store.writeBlob(data);
      assert.deepEqual(await store.writeBlob(Readable.from([data])), { digest, size: 5000 });
      const source = hangingSource([data]);
      // With `expected`, an existing blob is recognised without reading the source.
      assert.deepEqual(await store.writeBlob(source, { expected: digest }), { digest, size: 5000 });
      assert.equal(source.destroyed, true);
      await assert.rejects(
        store.writeBlob(data, { expected: digest, size: 4999 }),
        expectKind("InvalidArgument", /^unexpected commit size 5000, expected 4999$/),
      );
      assert.deepEqual(await collect(store.listBlobs()), [{ digest, size: 5000 }]);
      assert.equal(await h.ingestEntries(), 0);
    });

    test("concurrent writes of the same blob in one process all succeed", async () => {
      const data = randomBytes(300_000);
      const digest = sha256Digest(data);
      const chunked = () => Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.writeBlob(chunked())));
      for (const r of results) assert.deepEqual(r, { digest, size: data.byteLength });
      assert.deepEqual(await collect(store.listBlobs()), [{ digest, size: data.byteLength }]);
      assert.equal((await store.verifyBlob(digest)).ok, true);
    });

    test("abort mid-write stores nothing and leaves no ingest", async () => {
      const ac = new AbortController();
      let reads = 0;
      // Pushes one chunk, then aborts once the store asks for more (the chunk was taken).
      const source = new Readable({
        read() {
          if (reads++ === 0) this.push(randomBytes(1000));
          else setImmediate(() => ac.abort());
        },
      });
      await assert.rejects(store.writeBlob(source, { signal: ac.signal }), expectKind("Canceled"));
      assert.equal(source.destroyed, true);
      assert.deepEqual(await collect(store.listBlobs()), []);
      assert.equal(await h.ingestEntries(), 0);
    });

    test("an already aborted signal stores nothing", async () => {
      const data = Buffer.from("x");
      await assert.rejects(
        store.writeBlob(data, { signal: AbortSignal.abort() }),
        expectKind("Canceled", /canceled$/),
      );
      assert.equal(await store.hasBlob(sha256Digest(data)), false);
      assert.equal(await h.ingestEntries(), 0);
    });

    test("a failing source stores nothing", async () => {
      const boom = new Error("connection reset");
      const source = new Readable({
        read() {
          this.push(Buffer.from("partial"));
          this.destroy(boom);
        },
      });
      await assert.rejects(store.writeBlob(source), (err) => err === boom);
      assert.deepEqual(await collect(store.listBlobs()), []);
      assert.equal(await h.ingestEntries(), 0);
    });

    test("a source of strings is hashed as UTF-8; other chunks are refused", async () => {
      const info = await store.writeBlob(Readable.from(["héllo"], { objectMode: true }));
      assert.equal(info.digest, sha256Digest(Buffer.from("héllo")));
      await assert.rejects(store.writeBlob(Readable.from([{ a: 1 }])), expectKind("InvalidArgument"));
    });

    test("missing blobs: stat, has, read, open, verify, delete", async () => {
      const digest = sha256Digest("absent");
      assert.equal(await store.statBlob(digest), undefined);
      assert.equal(await store.hasBlob(digest), false);
      const notFound = expectKind("NotFound", new RegExp(`^blob ${digest} not found$`));
      await assert.rejects(store.readBlob(digest, { maxBytes: 10 }), notFound);
      await assert.rejects(buffer(store.openBlob(digest)), notFound);
      await assert.rejects(store.verifyBlob(digest), notFound);
      assert.equal(await store.deleteBlob(digest), false);
    });

    test("readBlob refuses a blob larger than maxBytes", async () => {
      const data = Buffer.alloc(100, 1);
      const { digest } = await store.writeBlob(data);
      assert.equal((await store.readBlob(digest, { maxBytes: 100 })).byteLength, 100);
      await assert.rejects(
        store.readBlob(digest, { maxBytes: 99 }),
        expectKind(
          "InvalidArgument",
          new RegExp(`^blob ${digest} is 100 bytes, more than the limit of 99 bytes$`),
        ),
      );
    });

    test("delete removes a blob; list is in digest order", async () => {
      const infos = [];
      for (let i = 0; i < 5; i++) infos.push(await store.writeBlob(Buffer.from(`blob ${i}`)));
      const sorted = [...infos].sort((a, b) => (a.digest < b.digest ? -1 : 1));
      assert.deepEqual(await collect(store.listBlobs()), sorted);
      const victim = infos[2]!;
      assert.equal(await store.deleteBlob(victim.digest), true);
      assert.equal(await store.hasBlob(victim.digest), false);
      assert.deepEqual(
        await collect(store.listBlobs()),
        sorted.filter((b) => b.digest !== victim.digest),
      );
      // Deleted content can be written again.
      assert.deepEqual(await store.writeBlob(Buffer.from("blob 2")), victim);
    });

    test("verifyBlob re-hashes a good blob", async () => {
      const data = randomBytes(200_000);
      const { digest } = await store.writeBlob(data);
      assert.deepEqual(await store.verifyBlob(digest), { digest, actual: digest, size: 200_000, ok: true });
    });

    test("cleanupIngest with nothing to clean", async () => {
      assert.equal(await store.cleanupIngest({ olderThanMs: 0 }), 0);
    });
  });
}
