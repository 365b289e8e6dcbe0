/**
 * ContentStore in memory, for unit tests of the modules above `content`. It behaves like the
 * file store (same checks, kinds and messages) but keeps nothing across processes.
 */
import { Readable } from "node:stream";
import { type Digest, digester } from "../oci/digest.js";
import type {
  BlobInfo,
  BlobStat,
  BlobVerification,
  CleanupIngestOptions,
  ContentStore,
  ReadBlobOptions,
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

/**
 * Blobs live in a Map from digest to bytes. A partial write exists only inside its `writeBlob`
 * call, so `cleanupIngest` has nothing to remove.
 */
export class MemoryContentStore implements ContentStore {
  readonly #blobs = new Map<Digest, Buffer>();
  readonly #committedAt = new Map<Digest, number>();

  async writeBlob(source: Readable | Uint8Array, opts: WriteBlobOptions = {}): Promise<BlobInfo> {
    checkWriteOptions(opts);
    const { signal, expected } = opts;
    if (signal?.aborted) {
      if (!(source instanceof Uint8Array)) source.destroy();
      throw writeCanceled(opts);
    }
    if (expected !== undefined) {
      opts.claim?.(expected);
      const existing = this.#blobs.get(expected);
      if (existing !== undefined) {
        if (!(source instanceof Uint8Array)) source.destroy();
        checkCommit({ digest: expected, size: existing.byteLength }, opts);
        return { digest: expected, size: existing.byteLength };
      }
    }
    const chunks: Buffer[] = [];
    const hash = digester();
    let size = 0;
    try {
      for await (const chunk of sourceChunks(source, signal)) {
        size += chunk.byteLength;
        if (opts.size !== undefined && size > opts.size) throw sizeMismatch(size, opts.size);
        hash.update(chunk);
        // Copy: the caller may reuse its buffer after we return.
        chunks.push(Buffer.from(chunk));
      }
    } catch (err) {
      if (signal?.aborted) throw writeCanceled(opts);
      throw err;
    }
    const written = { digest: hash.digest(), size };
    checkCommit(written, opts);
    if (signal?.aborted) throw writeCanceled(opts);
    opts.claim?.(written.digest);
    if (!this.#blobs.has(written.digest)) {
      this.#blobs.set(written.digest, Buffer.concat(chunks, size));
      this.#committedAt.set(written.digest, Date.now());
    }
    return written;
  }

  openBlob(digest: Digest): Readable {
    const blobs = this.#blobs;
    async function* chunks() {
      const data = blobs.get(digest);
      if (data === undefined) throw blobNotFound(digest);
      if (data.byteLength > 0) yield data;
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async readBlob(digest: Digest, opts: ReadBlobOptions): Promise<Buffer> {
    checkReadLimit(opts.maxBytes);
    opts.signal?.throwIfAborted();
    const data = this.#blobs.get(digest);
    if (data === undefined) throw blobNotFound(digest);
    if (data.byteLength > opts.maxBytes) throw blobTooLarge(digest, data.byteLength, opts.maxBytes);
    return Buffer.from(data);
  }

  async statBlob(digest: Digest): Promise<BlobStat | undefined> {
    const data = this.#blobs.get(digest);
    return data === undefined
      ? undefined
      : { size: data.byteLength, modifiedMs: this.#committedAt.get(digest) ?? 0 };
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    return this.#blobs.has(digest);
  }

  async deleteBlob(digest: Digest): Promise<boolean> {
    return this.deleteBlobSync(digest);
  }

  deleteBlobSync(digest: Digest): boolean {
    this.#committedAt.delete(digest);
    return this.#blobs.delete(digest);
  }

  async *listBlobs(): AsyncIterable<BlobInfo> {
    const digests = [...this.#blobs.keys()].sort();
    for (const digest of digests) {
      const data = this.#blobs.get(digest);
      if (data !== undefined) yield { digest, size: data.byteLength };
    }
  }

  async verifyBlob(digest: Digest, opts: VerifyBlobOptions = {}): Promise<BlobVerification> {
    opts.signal?.throwIfAborted();
    const data = this.#blobs.get(digest);
    if (data === undefined) throw blobNotFound(digest);
    const hash = digester();
    hash.update(data);
    const actual = hash.digest();
    return { digest, actual, size: data.byteLength, ok: actual === digest };
  }

  async cleanupIngest(opts: CleanupIngestOptions): Promise<number> {
    opts.signal?.throwIfAborted();
    return 0;
  }
}
