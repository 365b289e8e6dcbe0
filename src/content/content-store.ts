/**
 * The content store: immutable blobs (layers, configs, manifests, indexes) addressed by their
 * sha256 digest. Nothing is visible under a digest before its bytes were hashed and matched it.
 */
import type { Readable } from "node:stream";
import type { Digest } from "../oci/digest.js";

/** Size of a stored blob, as `statBlob` reports it. */
export interface BlobStat {
  readonly size: number;
  /** When the blob was committed (ms since the epoch); garbage sweeps spare young blobs. */
  readonly modifiedMs: number;
}

/** A committed blob: its address and its size in bytes. */
export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

export interface WriteBlobOptions {
  /** The digest the bytes must have; on mismatch nothing is stored (InvalidArgument). */
  readonly expected?: Digest;
  /** The size the bytes must have; on mismatch nothing is stored (InvalidArgument). */
  readonly size?: number;
  /** Aborting discards the partial write; the promise rejects with kind Canceled. */
  readonly signal?: AbortSignal;
  /**
   * Called with the digest before the store looks for an existing blob of it or commits one:
   * a lease takes the blob here, so that garbage collection cannot remove what the write is
   * about to find or publish.
   */
  readonly claim?: (digest: Digest) => void;
}

export interface ReadBlobOptions {
  /** Refuse (InvalidArgument) a blob larger than this; documents are small, layers are not. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

export interface VerifyBlobOptions {
  readonly signal?: AbortSignal;
}

/** What re-hashing a stored blob found. `ok` is false when the bytes no longer match the name. */
export interface BlobVerification {
  readonly digest: Digest;
  readonly actual: Digest;
  readonly size: number;
  readonly ok: boolean;
}

export interface CleanupIngestOptions {
  /** Remove partial writes not written to for at least this long (0 removes every one). */
  readonly olderThanMs: number;
  /** The bound for resumable ingests (kept for a later writer of the same blob); `olderThanMs` if absent. */
  readonly resumableOlderThanMs?: number;
  /** Resumable ingests of blobs a live operation still holds (its lease names the blob) are kept. */
  readonly keepResumable?: (digest: Digest) => boolean;
  readonly signal?: AbortSignal;
}

/**
 * A resumable ingest (containerd's ingest by ref): the partial write of one blob, kept on disk
 * when its writer is interrupted (an error, Ctrl-C, kill -9) so that the next writer of the same
 * blob continues where it ended. It is never a blob: only `commit`, after checking the whole
 * blob's size and digest, makes it one.
 */
export interface ResumableIngest {
  /** Bytes already written and hashed (kept from an earlier writer, re-hashed when opened). */
  readonly offset: number;
  /** Appends the bytes of `source` at `offset`, hashing them (more than the blob's size fails). */
  append(source: Readable, opts?: { readonly signal?: AbortSignal }): Promise<void>;
  /** Drops what was kept: the bytes start again at 0 (a source that cannot resume). */
  reset(): Promise<void>;
  /**
   * Checks the whole blob (size, digest) and makes it visible; on a mismatch the partial write
   * is dropped (InvalidArgument) so the next writer starts over.
   */
  commit(opts?: { readonly claim?: (digest: Digest) => void }): Promise<BlobInfo>;
}

export interface ResumableIngestOptions {
  readonly expected: Digest;
  readonly size: number;
}

export type IngestAttempt<T> = { readonly acquired: true; readonly value: T } | { readonly acquired: false };

/**
 * Blobs by digest. Lifecycle of a blob:
 *
 * 1. **Ingest** — `writeBlob` streams the source into a private partial write (unique to this
 *    writer), hashing while it goes. Concurrent writers never share a partial write.
 * 2. **Commit** — at the end of the source the size and digest are checked against the
 *    caller's `size`/`expected`; on a match the bytes are made durable and become visible under
 *    the digest in one atomic step. If the blob already exists the partial write is discarded
 *    and the write still succeeds: content-addressed bytes are identical by definition. A
 *    mismatch, an error of the source or an abort discards the partial write and stores nothing.
 * 3. **Read** — `openBlob`/`readBlob`/`statBlob`/`hasBlob`/`listBlobs` see committed blobs only.
 *    Committed blobs never change; `verifyBlob` re-hashes one to detect disk corruption.
 * 4. **Delete** — `deleteBlob` removes a blob; deciding that nothing refers to it (leases,
 *    garbage collection) is the metadata layer's job, not the store's.
 *
 * A writer killed at any moment (even `kill -9`) leaves at most a partial write, never a blob
 * under a digest; `cleanupIngest` removes partial writes that have stopped growing.
 */
export interface ContentStore {
  /**
   * Stores the bytes of `source` and returns their digest and size. When `expected` names a
   * blob already stored, returns at once without reading `source` (a Readable is destroyed).
   */
  writeBlob(source: Readable | Uint8Array, opts?: WriteBlobOptions): Promise<BlobInfo>;

  /**
   * A stream of the blob's bytes. A missing blob surfaces as a stream error of kind NotFound
   * ("blob sha256:… not found"); use `statBlob` first to decide before streaming.
   */
  openBlob(digest: Digest): Readable;

  /** The whole blob in memory, for small documents (manifests, configs); bounded by `maxBytes`. */
  readBlob(digest: Digest, opts: ReadBlobOptions): Promise<Buffer>;

  /** The blob's size, or undefined when it is not stored. */
  statBlob(digest: Digest): Promise<BlobStat | undefined>;

  hasBlob(digest: Digest): Promise<boolean>;

  /** Removes a blob; true when it existed. Readers that already opened it keep their bytes. */
  deleteBlob(digest: Digest): Promise<boolean>;

  /** `deleteBlob` at once (one unlink), for garbage collection inside a database transaction. */
  deleteBlobSync(digest: Digest): boolean;

  /** Every committed blob, in digest order. */
  listBlobs(): AsyncIterable<BlobInfo>;

  /** Re-hashes a stored blob (NotFound when missing). */
  verifyBlob(digest: Digest, opts?: VerifyBlobOptions): Promise<BlobVerification>;

  /** Removes abandoned partial writes; returns how many were removed. */
  cleanupIngest(opts: CleanupIngestOptions): Promise<number>;

  /**
   * Runs `fn` with the resumable ingest of `expected`, held by this process alone while `fn`
   * runs (and kept, unless committed, when it ends or the process dies). `acquired` is false
   * when another process holds it, or the store keeps no resumable ingests: write privately then.
   */
  withResumableIngest?<T>(
    opts: ResumableIngestOptions,
    fn: (ingest: ResumableIngest) => Promise<T>,
  ): Promise<IngestAttempt<T>>;
}
