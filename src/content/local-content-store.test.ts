/** LocalContentStore specifics: file modes, crashes, several processes, ingest cleanup. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, test } from "node:test";
import { collect, waitFor } from "../base/async.js";
import { isBerthError } from "../base/errors.js";
import { digestHex, parseDigest, sha256Digest } from "../oci/digest.js";
import { LocalContentStore } from "./local-content-store.js";

const moduleUrl = new URL("./local-content-store.js", import.meta.url).href;

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

interface Child {
  readonly proc: ChildProcess;
  readonly stdout: () => string;
  readonly exit: Promise<{ code: number | null; signal: string | null; stderr: string }>;
}

function runNode(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout?.setEncoding("utf8").on("data", (s: string) => {
    out += s;
  });
  proc.stderr?.setEncoding("utf8").on("data", (s: string) => {
    err += s;
  });
  const exit = once(proc, "exit").then(([code, signal]) => ({
    code: typeof code === "number" ? code : null,
    signal: typeof signal === "string" ? signal : null,
    stderr: err,
  }));
  return { proc, stdout: () => out, exit };
}

describe("LocalContentStore", () => {
  let dir: string;
  let store: LocalContentStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-content-local-"));
    store = LocalContentStore.fromRoots({ root: dir, runroot: join(dir, "run") });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test("lays out blobs/sha256/<hex> read-only (0444) and leaves no ingest", async () => {
    assert.equal(store.paths.blobs, join(dir, "blobs", "sha256"));
    assert.equal(store.paths.ingest, join(dir, "ingest"));
    const data = randomBytes(1234);
    const { digest } = await store.writeBlob(data);
    assert.equal(store.blobPath(digest), join(dir, "blobs", "sha256", digestHex(digest)));
    const st = await stat(store.blobPath(digest));
    assert.equal(st.mode & 0o777, 0o444);
    assert.deepEqual(await readFile(store.blobPath(digest)), data);
    assert.deepEqual(await listDir(store.paths.blobs), [digestHex(digest)]);
    assert.deepEqual(await listDir(store.paths.ingest), []);
  });

  test("constructing and reading an empty root creates nothing", async () => {
    const empty = new LocalContentStore({ blobs: join(dir, "x", "blobs"), ingest: join(dir, "x", "ingest") });
    assert.deepEqual(await collect(empty.listBlobs()), []);
    assert.equal(await empty.hasBlob(sha256Digest("")), false);
    assert.equal(await empty.cleanupIngest({ olderThanMs: 0 }), 0);
    assert.deepEqual(await listDir(dir), []);
  });

  test("listBlobs ignores names that are not digests", async () => {
    const { digest, size } = await store.writeBlob(Buffer.from("a"));
    await writeFile(join(store.paths.blobs, ".tmp-123"), "junk");
    await writeFile(join(store.paths.blobs, "ABC"), "junk");
    assert.deepEqual(await collect(store.listBlobs()), [{ digest, size }]);
  });

  test("verifyBlob reports a blob whose bytes changed on disk", async () => {
    const { digest } = await store.writeBlob(Buffer.from("original bytes"));
    const path = store.blobPath(digest);
    await chmod(path, 0o644);
    await writeFile(path, "tampered bytes!");
    const v = await store.verifyBlob(digest);
    assert.equal(v.ok, false);
    assert.equal(v.digest, digest);
    assert.equal(v.actual, sha256Digest("tampered bytes!"));
    assert.equal(v.size, 15);
  });

  test("cleanupIngest removes stale entries and keeps fresh ones", async () => {
    const stale = join(store.paths.ingest, "w-stale");
    const fresh = join(store.paths.ingest, "w-fresh");
    await mkdir(stale, { recursive: true });
    await mkdir(fresh, { recursive: true });
    await writeFile(join(stale, "data"), "old partial");
    await writeFile(join(fresh, "data"), "new partial");
    await writeFile(join(store.paths.ingest, "stray-file"), "x");
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(stale, "data"), old, old);
    await utimes(stale, old, old);
    await utimes(join(store.paths.ingest, "stray-file"), old, old);
    assert.equal(await store.cleanupIngest({ olderThanMs: 3600_000 }), 2);
    assert.deepEqual(await listDir(store.paths.ingest), ["w-fresh"]);
  });

  test("a write whose ingest is cleaned up underneath fails with Unavailable", async () => {
    let release: (() => void) | undefined;
    let reads = 0;
    const source = new Readable({
      read() {
        if (reads++ === 0) this.push(Buffer.alloc(1000, 7));
        else
          release = () => {
            this.push(null);
          };
      },
    });
    const writing = store.writeBlob(source);
    await waitFor("the partial write", async () => release !== undefined);
    assert.equal(await store.cleanupIngest({ olderThanMs: 0 }), 1);
    release?.();
    await assert.rejects(writing, (err) => isBerthError(err, "Unavailable"));
    assert.deepEqual(await collect(store.listBlobs()), []);
  });

  test("a writer killed midway leaves no blob, and cleanupIngest removes its leftovers", async () => {
    const chunkSize = 64 * 1024;
    const chunks = 64;
    const hash = createHash("sha256");
    for (let i = 0; i < chunks; i++) hash.update(Buffer.alloc(chunkSize, i));
    const expected = parseDigest(`sha256:${hash.digest("hex")}`);
    const script = join(dir, "slow-writer.mjs");
    await writeFile(
      script,
      `import { Readable } from "node:stream";
import { LocalContentStore } from ${JSON.stringify(moduleUrl)};
const [blobs, ingest, expected] = process.argv.slice(2);
const store = new LocalContentStore({ blobs, ingest });
let i = 0;
const source = new Readable({
  read() {
    setTimeout(() => this.push(i < ${chunks} ? Buffer.alloc(${chunkSize}, i++) : null), 25);
  },
});
await store.writeBlob(source, { expected, size: ${chunks * chunkSize} });
console.log("committed");
`,
    );
    const child = runNode(script, [store.paths.blobs, store.paths.ingest, expected]);
    // Wait until a good part (but not all) of the blob sits in the child's ingest file.
    let ingestData = "";
    await waitFor("the child's partial write", async () => {
      for (const name of await listDir(store.paths.ingest)) {
        const data = join(store.paths.ingest, name, "data");
        const size = await stat(data).then(
          (s) => s.size,
          () => 0,
        );
        if (size >= 8 * chunkSize) {
          ingestData = data;
          return true;
        }
      }
      return false;
    });
    child.proc.kill("SIGKILL");
    const exit = await child.exit;
    assert.equal(exit.signal, "SIGKILL", exit.stderr);
    assert.equal(child.stdout(), "");
    assert.ok((await stat(ingestData)).size < chunks * chunkSize);

    // Nothing under the digest; the partial write is only an ingest entry.
    assert.equal(await store.hasBlob(expected), false);
    assert.deepEqual(await listDir(store.paths.blobs), []);
    assert.equal((await listDir(store.paths.ingest)).length, 1);
    // Fresh leftovers are kept (they may belong to a live writer); old enough ones go.
    assert.equal(await store.cleanupIngest({ olderThanMs: 60_000 }), 0);
    assert.equal(await store.cleanupIngest({ olderThanMs: 0 }), 1);
    assert.deepEqual(await listDir(store.paths.ingest), []);

    // The next writer of the same blob succeeds.
    const all = Buffer.concat(Array.from({ length: chunks }, (_, i) => Buffer.alloc(chunkSize, i)));
    assert.deepEqual(await store.writeBlob(all, { expected }), { digest: expected, size: all.byteLength });
  });

  test("two processes writing the same 20 MB blob both succeed and one blob results", async () => {
    const data = randomBytes(20 * 1024 * 1024);
    const digest = sha256Digest(data);
    const sourceFile = join(dir, "source.bin");
    await writeFile(sourceFile, data);
    const go = join(dir, "go");
    const script = join(dir, "writer.mjs");
    await writeFile(
      script,
      `import { createReadStream, existsSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { LocalContentStore } from ${JSON.stringify(moduleUrl)};
const [blobs, ingest, source, go, expected, size, ready] = process.argv.slice(2);
const store = new LocalContentStore({ blobs, ingest });
writeFileSync(ready, "");
while (!existsSync(go)) await sleep(2);
const info = await store.writeBlob(createReadStream(source, { highWaterMark: 256 * 1024 }), {
  expected,
  size: Number(size),
});
console.log(JSON.stringify(info));
`,
    );
    const args = [store.paths.blobs, store.paths.ingest, sourceFile, go, digest, String(data.byteLength)];
    const ready = [join(dir, "ready-1"), join(dir, "ready-2")];
    const children = ready.map((r) => runNode(script, [...args, r]));
    // Both writers have opened the store and wait for the go file: then they start at once.
    await waitFor("both writers to be ready", () => ready.every((r) => existsSync(r)));
    await writeFile(go, "");
    for (const child of children) {
      const exit = await child.exit;
      assert.equal(exit.code, 0, exit.stderr);
      assert.deepEqual(JSON.parse(child.stdout()), { digest, size: data.byteLength });
    }
    assert.deepEqual(await listDir(store.paths.blobs), [digestHex(digest)]);
    assert.deepEqual(await listDir(store.paths.ingest), []);
    assert.equal((await stat(store.blobPath(digest))).mode & 0o777, 0o444);
    assert.deepEqual(await store.verifyBlob(digest), {
      digest,
      actual: digest,
      size: data.byteLength,
      ok: true,
    });
  });
});

describe("resumable ingests", () => {
  let root: string;
  let store: LocalContentStore;
  const blob = randomBytes(300_000);
  const digest = sha256Digest(blob);
  const opts = { expected: digest, size: blob.byteLength };
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-resume-"));
    const { LockDir } = await import("../sys/lock.js");
    store = new LocalContentStore({
      blobs: join(root, "blobs"),
      ingest: join(root, "ingest"),
      ingestLocks: new LockDir(join(root, "locks")),
    });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test("an interrupted write is kept, never a blob, and the next writer continues it to a verified blob", async () => {
    const first = await store.withResumableIngest(opts, async (ing) => {
      assert.equal(ing.offset, 0);
      await ing.append(Readable.from([blob.subarray(0, 120_000)]));
      return ing.offset;
    });
    assert.deepEqual(first, { acquired: true, value: 120_000 });
    assert.equal(await store.hasBlob(digest), false);
    assert.deepEqual(await listDir(join(root, "ingest")), [`r-${digestHex(digest)}`]);
    const second = await store.withResumableIngest(opts, async (ing) => {
      const from = ing.offset;
      await ing.append(Readable.from([blob.subarray(from)]));
      return { from, info: await ing.commit() };
    });
    assert.deepEqual(second, {
      acquired: true,
      value: { from: 120_000, info: { digest, size: blob.byteLength } },
    });
    assert.deepEqual(await readFile(store.blobPath(digest)), blob);
    assert.deepEqual(await listDir(join(root, "ingest")), []);
  });

  test("kept bytes that are not the blob's fail the commit and are dropped: the next writer starts at 0", async () => {
    await store.withResumableIngest(opts, (ing) => ing.append(Readable.from([randomBytes(1000)])));
    const bad = await store
      .withResumableIngest(opts, async (ing) => {
        await ing.append(Readable.from([blob.subarray(ing.offset)]));
        return ing.commit();
      })
      .catch((err: unknown) => err);
    assert.ok(isBerthError(bad, "InvalidArgument"), String(bad));
    assert.equal(await store.hasBlob(digest), false);
    const again = await store.withResumableIngest(opts, async (ing) => ing.offset);
    assert.deepEqual(again, { acquired: true, value: 0 });
    // More bytes than the blob has are refused as they come.
    const over = await store
      .withResumableIngest(opts, (ing) => ing.append(Readable.from([blob, Buffer.from("x")])))
      .catch((err: unknown) => err);
    assert.ok(isBerthError(over, "InvalidArgument"));
  });

  test("a writer in progress holds the ingest: a second one in this process is turned away; cleanup keeps what is held or leased", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started!: () => void;
    const isStarted = new Promise<void>((r) => {
      started = r;
    });
    const holder = store.withResumableIngest(opts, async (ing) => {
      await ing.append(Readable.from([blob.subarray(0, 10)]));
      started();
      await held;
    });
    await isStarted;
    assert.deepEqual(await store.withResumableIngest(opts, async () => "second"), { acquired: false });
    assert.equal(await store.cleanupIngest({ olderThanMs: 0 }), 0, "a held ingest is not removed");
    release();
    await holder;
    assert.equal(await store.cleanupIngest({ olderThanMs: 0, keepResumable: (d) => d === digest }), 0);
    assert.equal(await store.cleanupIngest({ olderThanMs: 0, resumableOlderThanMs: 3_600_000 }), 0);
    assert.equal(await store.cleanupIngest({ olderThanMs: 0 }), 1);
    assert.deepEqual(await listDir(join(root, "ingest")), []);
  });
});
