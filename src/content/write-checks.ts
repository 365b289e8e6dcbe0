/**
 * Checks and errors shared by the content store implementations, so that both reject the same
 * inputs with the same kinds and messages (containerd's wording for commit mismatches).
 * Pure checks over options and counts; it never touches a store.
 */
import { addAbortSignal, type Readable } from "node:stream";
import { type BerthError, canceled, invalidArgument, notFound } from "../base/errors.js";
import type { Digest } from "../oci/digest.js";
import type { BlobInfo, WriteBlobOptions } from "./content-store.js";

export function blobNotFound(digest: Digest): BerthError {
  return notFound(`blob ${digest} not found`);
}

/** Rejects a `size` option that no byte stream can have. */
export function checkWriteOptions(opts: WriteBlobOptions): void {
  const { size } = opts;
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw invalidArgument(`invalid blob size ${size}: must be a non-negative integer`);
  }
}

export function checkReadLimit(maxBytes: number): void {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw invalidArgument(`invalid maxBytes ${maxBytes}: must be a non-negative integer`);
  }
}

export function sizeMismatch(actual: number, expected: number): BerthError {
  return invalidArgument(`unexpected commit size ${actual}, expected ${expected}`);
}

/** The final checks before a write becomes visible under its digest. */
export function checkCommit(written: BlobInfo, opts: WriteBlobOptions): void {
  if (opts.size !== undefined && written.size !== opts.size) throw sizeMismatch(written.size, opts.size);
  if (opts.expected !== undefined && written.digest !== opts.expected) {
    throw invalidArgument(`unexpected commit digest ${written.digest}, expected ${opts.expected}`);
  }
}

export function writeCanceled(opts: WriteBlobOptions): BerthError {
  const what = opts.expected === undefined ? "blob write" : `write of blob ${opts.expected}`;
  return canceled(`${what} canceled`, opts.signal?.reason);
}

export function blobTooLarge(digest: Digest, size: number, maxBytes: number): BerthError {
  return invalidArgument(`blob ${digest} is ${size} bytes, more than the limit of ${maxBytes} bytes`);
}

/**
 * The bytes of a write source as chunks. Aborting `signal` destroys a Readable source, which
 * makes the iteration throw; a source yielding anything but bytes or strings is refused.
 */
export async function* sourceChunks(source: Readable | Uint8Array, signal?: AbortSignal) {
  if (source instanceof Uint8Array) {
    if (source.byteLength > 0) yield source;
    return;
  }
  if (signal !== undefined) addAbortSignal(signal, source);
  for await (const chunk of source) {
    const c: unknown = chunk;
    if (c instanceof Uint8Array) yield c;
    else if (typeof c === "string") yield Buffer.from(c);
    else throw invalidArgument("blob source yielded a chunk that is not bytes");
  }
}
