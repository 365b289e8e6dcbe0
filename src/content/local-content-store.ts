/**
 * The content store on disk (DESIGN.md §3): committed blobs at `<root>/blobs/sha256/<hex>`,
 * read-only (0444); partial writes at `<root>/ingest/<random>/data`, one directory per writer.
 * A write is hashed while streaming, fsynced, checked, then renamed into `blobs/sha256/` and
 * the directory fsynced, so a crash leaves either a whole verified blob or only an ingest entry.
 * No other module writes under `blobs/` or `ingest/`; a blob is never visible before it is
 * verified, and never changed once it is.
 */
import { constants, unlinkSync } from "node:fs";
import {
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  rename,
  rm,
  stat,
  utimes,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { errnoCode, isBerthError, unavailable } from "../base/errors.js";
import { layout, type Roots } from "../config/roots.js";
import { type Digest, digester, digestHex, isDigest } from "../oci/digest.js";
import { fsyncDir } from "../sys/fs.js";
import { LockDir, type LockDirApi } from "../sys/lock.js";
import type {
  BlobInfo,
  BlobStat,
  BlobVerification,
  CleanupIngestOptions,
  ContentStore,
  IngestAttempt,
  ReadBlobOptions,
  ResumableIngest,
  ResumableIngestOptions,
  VerifyBlobOptions,
  WriteBlobOptions,
} from "./content-store.js";
import {
  blobNotFound,
  blobTooLarge,
  checkCommit,
  checkReadLimit,
  checkWriteOptions,
  sizeMismatch,
  sourceChunks,
  writeCanceled,
} from "./write-checks.js";

/** Where a LocalContentStore keeps its files; `layout(roots)` has this shape. */
export interface LocalContentStorePaths {
  /** Committed blobs, named by hex digest (`<root>/blobs/sha256`). */
  readonly blobs: string;
  /** Partial writes (`<root>/ingest`). */
  readonly ingest: string;
  /**
   * Cross-process locks (`<runroot>/locks`): a resumable ingest is held by one writer at a time.
   * Without them the store keeps no resumable ingests.
   */
  readonly ingestLocks?: LockDirApi;
}

const READ_CHUNK = 64 * 1024;
const BLOB_MODE = 0o444;
const INGEST_DATA = "data";
/** Resumable ingests are `<ingest>/r-<hex of the blob's digest>/data`; private ones `w-*`. */
const RESUMABLE_PREFIX = "r-";

/**
 * ContentStore on the local filesystem. Constructing it touches nothing; directories are
 * created by the first write. Several processes may use the same root at once.
 */
export class LocalContentStore implements ContentStore {
  readonly paths: LocalContentStorePaths;

  constructor(paths: LocalContentStorePaths) {
    this.paths = {
      blobs: paths.blobs,
      ingest: paths.ingest,
      ...(paths.ingestLocks ? { ingestLocks: paths.ingestLocks } : {}),
    };
  }

  static fromRoots(roots: Roots): LocalContentStore {
    const l = layout(roots);
    return new LocalContentStore({ blobs: l.blobs, ingest: l.ingest, ingestLocks: new LockDir(l.locks) });
  }

  /** The file holding a blob (whether or not it exists), for hardlinking or copying it out. */
  blobPath(digest: Digest): string {
    return join(this.paths.blobs, digestHex(digest));
  }

  async writeBlob(source: Readable | Uint8Array, opts: WriteBlobOptions = {}): Promise<BlobInfo> {
    checkWriteOptions(opts);
    const { signal, expected } = opts;
    if (signal?.aborted) {
      if (!(source instanceof Uint8Array)) source.destroy();
      throw writeCanceled(opts);
    }
    if (expected !== undefined) {
      opts.claim?.(expected);
      const existing = await this.statBlob(expected);
      if (existing !== undefined) {
        if (!(source instanceof Uint8Array)) source.destroy();
        checkCommit({ digest: expected, size: existing.size }, opts);
        return { digest: expected, size: existing.size };
      }
    }

    await mkdir(this.paths.ingest, { recursive: true });
    const dir = await mkdtemp(join(this.paths.ingest, "w-"));
    try {
      const data = join(dir, INGEST_DATA);
      const written = await this.ingest(source, data, opts);
      checkCommit(written, opts);
      if (signal?.aborted) throw writeCanceled(opts);
      opts.claim?.(written.digest);
      await this.commit(data, written.digest);
      return written;
    } catch (err) {
      if (signal?.aborted && !isBerthError(err)) throw writeCanceled(opts);
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Streams `source` into the ingest file `data`, hashing as it goes; fsyncs it at the end. */
  private async ingest(
    source: Readable | Uint8Array,
    data: string,
    opts: WriteBlobOptions,
  ): Promise<BlobInfo> {
    const fh = await open(data, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const hash = digester();
      let size = 0;
      for await (const chunk of sourceChunks(source, opts.signal)) {
        size += chunk.byteLength;
        if (opts.size !== undefined && size > opts.size) throw sizeMismatch(size, opts.size);
        hash.update(chunk);
        await writeAll(fh, chunk);
      }
      await fh.sync();
      return { digest: hash.digest(), size };
    } finally {
      await fh.close();
    }
  }

  /** Makes a verified ingest file visible under its digest. An existing blob wins. */
  private async commit(data: string, digest: Digest): Promise<void> {
    const target = this.blobPath(digest);
    if ((await this.statBlob(digest)) !== undefined) return;
    await mkdirDurable(this.paths.blobs);
    try {
      await chmod(data, BLOB_MODE);
      // Atomic; if another writer committed the same digest meanwhile, its bytes are identical.
      await rename(data, target);
    } catch (err) {
      // The blobs directory exists, so ENOENT means the ingest file went away (cleanupIngest).
      if (errnoCode(err) === "ENOENT") {
        throw unavailable(`ingest of blob ${digest} was removed while it was being written`, err);
      }
      throw err;
    }
    await fsyncDir(this.paths.blobs);
  }

  /**
   * The resumable ingest of a blob: `<ingest>/r-<hex>/data`, held through the lock
   * `ingest-<hex>` (a helper process holds the flock, so a killed holder never leaves it taken).
   * Opening re-hashes the kept bytes — a digest state cannot be saved — so a resume continues
   * the hash over exactly what is on disk; a kept prefix longer than the blob is dropped.
   */
  async withResumableIngest<T>(
    opts: ResumableIngestOptions,
    fn: (ingest: ResumableIngest) => Promise<T>,
  ): Promise<IngestAttempt<T>> {
    const locks = this.paths.ingestLocks;
    if (!locks) return { acquired: false };
    checkWriteOptions({ size: opts.size });
    const hex = digestHex(opts.expected);
    const dir = join(this.paths.ingest, `${RESUMABLE_PREFIX}${hex}`);
    return locks.tryWith(`ingest-${hex}`, async () => {
      await mkdir(dir, { recursive: true });
      const data = join(dir, INGEST_DATA);
      const fh = await open(data, constants.O_RDWR | constants.O_CREAT, 0o600);
      let committed = false;
      let offset = 0;
      try {
        const now = new Date();
        await utimes(dir, now, now);
        let hash = digester();
        const kept = (await fh.stat()).size;
        if (kept > opts.size) await fh.truncate(0);
        else {
          const buf = Buffer.allocUnsafe(READ_CHUNK);
          while (offset < kept) {
            const { bytesRead } = await fh.read(buf, 0, Math.min(buf.byteLength, kept - offset), offset);
            if (bytesRead === 0) break;
            hash.update(buf.subarray(0, bytesRead));
            offset += bytesRead;
          }
          if (offset < kept) await fh.truncate(offset);
        }
        const store = this;
        const ingest: ResumableIngest = {
          get offset() {
            return offset;
          },
          async append(source, o = {}) {
            for await (const chunk of sourceChunks(source, o.signal)) {
              if (offset + chunk.byteLength > opts.size)
                throw sizeMismatch(offset + chunk.byteLength, opts.size);
              hash.update(chunk);
              let done = 0;
              while (done < chunk.byteLength) {
                const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done, offset + done);
                done += bytesWritten;
              }
              offset += chunk.byteLength;
            }
          },
          async reset() {
            await fh.truncate(0);
            hash = digester();
            offset = 0;
          },
          async commit(c = {}) {
            if (offset !== opts.size) throw sizeMismatch(offset, opts.size);
            const written = { digest: hash.digest(), size: offset };
            if (written.digest !== opts.expected) {
              // Bytes that do not hash right are never kept for another resume.
              await fh.truncate(0);
              hash = digester();
              offset = 0;
            }
            checkCommit(written, { expected: opts.expected, size: opts.size });
            await fh.sync();
            c.claim?.(written.digest);
            await store.commit(data, written.digest);
            committed = true;
            return written;
          },
        };
        return await fn(ingest);
      } finally {
        await fh.close();
        // Nothing worth keeping (committed, or dropped after a mismatch): the entry goes.
        if (committed || offset === 0) await rm(dir, { recursive: true, force: true });
      }
    });
  }

  openBlob(digest: Digest): Readable {
    const path = this.blobPath(digest);
    async function* chunks() {
      const fh = await openBlobFile(path, digest);
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(READ_CHUNK);
          const { bytesRead } = await fh.read(buf, 0, buf.byteLength, null);
          if (bytesRead === 0) return;
          yield buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async readBlob(digest: Digest, opts: ReadBlobOptions): Promise<Buffer> {
    checkReadLimit(opts.maxBytes);
    opts.signal?.throwIfAborted();
    const fh = await openBlobFile(this.blobPath(digest), digest);
    try {
      const { size } = await fh.stat();
      if (size > opts.maxBytes) throw blobTooLarge(digest, size, opts.maxBytes);
      const buf = await fh.readFile(opts.signal === undefined ? {} : { signal: opts.signal });
      // Blobs are immutable, but a corrupted store must not make us hold more than asked.
      if (buf.byteLength > opts.maxBytes) throw blobTooLarge(digest, buf.byteLength, opts.maxBytes);
      return buf;
    } finally {
      await fh.close();
    }
  }

  async statBlob(digest: Digest): Promise<BlobStat | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return st.isFile() ? { size: st.size, modifiedMs: st.mtimeMs } : undefined;
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return undefined;
      throw err;
    }
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    return (await this.statBlob(digest)) !== undefined;
  }

  async deleteBlob(digest: Digest): Promise<boolean> {
    try {
      await rm(this.blobPath(digest));
      return true;
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return false;
      throw err;
    }
  }

  deleteBlobSync(digest: Digest): boolean {
    try {
      unlinkSync(this.blobPath(digest));
      return true;
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return false;
      throw err;
    }
  }

  async *listBlobs(): AsyncIterable<BlobInfo> {
    let names: string[];
    try {
      names = await readdir(this.paths.blobs);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    names.sort();
    for (const name of names) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue; // not a blob (nothing else should be here)
      const st = await this.statBlob(digest);
      if (st !== undefined) yield { digest, size: st.size };
    }
  }

  async verifyBlob(digest: Digest, opts: VerifyBlobOptions = {}): Promise<BlobVerification> {
    const fh = await openBlobFile(this.blobPath(digest), digest);
    try {
      const hash = digester();
      let size = 0;
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      for (;;) {
        opts.signal?.throwIfAborted();
        const { bytesRead } = await fh.read(buf, 0, buf.byteLength, null);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        size += bytesRead;
      }
      const actual = hash.digest();
      return { digest, actual, size, ok: actual === digest };
    } finally {
      await fh.close();
    }
  }

  /**
   * Removes ingest entries whose newest write is at least `olderThanMs` old. A live writer keeps
   * its entry fresh by writing; one removed anyway fails with kind Unavailable at commit.
   */
  async cleanupIngest(opts: CleanupIngestOptions): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.paths.ingest);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return 0;
      throw err;
    }
    const now = Date.now();
    let removed = 0;
    for (const name of names) {
      opts.signal?.throwIfAborted();
      const entry = join(this.paths.ingest, name);
      const resumable = name.startsWith(RESUMABLE_PREFIX);
      const bound = resumable ? (opts.resumableOlderThanMs ?? opts.olderThanMs) : opts.olderThanMs;
      const updated = await lastWrite(entry);
      if (updated === undefined || now - updated < bound) continue;
      if (!resumable) {
        await rm(entry, { recursive: true, force: true });
        removed++;
        continue;
      }
      // A resumable ingest goes only while no writer holds it and no lease names its blob.
      const digest = `sha256:${name.slice(RESUMABLE_PREFIX.length)}`;
      if (!isDigest(digest) || opts.keepResumable?.(digest)) continue;
      const locks = this.paths.ingestLocks;
      const remove = () => rm(entry, { recursive: true, force: true });
      const gone = locks
        ? await locks.tryWith(`ingest-${digestHex(digest)}`, remove)
        : await remove().then(() => ({ acquired: true }));
      if (gone.acquired) removed++;
    }
    return removed;
  }
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

async function openBlobFile(path: string, digest: Digest): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY);
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") throw blobNotFound(digest);
    throw err;
  }
}

/** The newest mtime of an ingest entry and its data file (ms), or undefined if it vanished. */
async function lastWrite(entry: string): Promise<number | undefined> {
  let newest: number;
  try {
    newest = (await lstat(entry)).mtimeMs;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
  try {
    newest = Math.max(newest, (await lstat(join(entry, INGEST_DATA))).mtimeMs);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT" && errnoCode(err) !== "ENOTDIR") throw err;
  }
  return newest;
}

/** mkdir -p that fsyncs the parents of the directories it created, so they survive a crash. */
async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}
