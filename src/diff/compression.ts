/**
 * Layer compression: recognise a blob's compression by its magic bytes, decompress gzip while
 * streaming, and gzip for push. Only gzip is decompressed; zstd, bzip2 and xz are recognised
 * and rejected with a clear error (Node 20 has no zstd, and berth never runs an external
 * decompressor on layer bytes — CVE-2014-9357).
 */
import type { Readable } from "node:stream";
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip, constants as zlibConstants } from "node:zlib";
import { invalidArgument } from "../base/errors.js";

/** What a layer blob was compressed with, as told by its first bytes. */
export type Compression = "none" | "gzip" | "zstd" | "bzip2" | "xz";

/** The most bytes `detectCompression` ever looks at. */
export const MAGIC_LENGTH = 6;

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const BZIP2 = [0x42, 0x5a, 0x68]; // "BZh"
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  return magic.every((b, i) => bytes[i] === b);
}

/**
 * The compression of a blob from its first bytes (at least `MAGIC_LENGTH` of them when the
 * blob is that long). Anything unrecognised is "none": a plain tar starts with a file name.
 */
export function detectCompression(firstBytes: Uint8Array): Compression {
  if (startsWith(firstBytes, GZIP)) return "gzip";
  if (startsWith(firstBytes, ZSTD)) return "zstd";
  if (startsWith(firstBytes, XZ)) return "xz";
  if (startsWith(firstBytes, BZIP2)) return "bzip2";
  return "none";
}

/** Options for `decompressStream`. */
export interface DecompressOptions {
  signal?: AbortSignal;
}

/** The result of `decompressStream`: the plain bytes and what they were compressed with. */
export interface Decompressed {
  stream: Readable;
  compression: Compression;
}

/**
 * Reads the first bytes of `stream` without consuming them, detects the compression and returns
 * a stream of the uncompressed bytes (the input itself when it is not compressed). Rejects with
 * InvalidArgument for zstd, bzip2 and xz. A corrupt gzip body makes the returned stream error.
 */
export async function decompressStream(
  stream: Readable,
  opts: DecompressOptions = {},
): Promise<Decompressed> {
  const { head, ended } = await peek(stream, MAGIC_LENGTH, opts.signal);
  const compression = detectCompression(head);
  // When the input ended while peeking, unshift is not allowed; replay it from a new stream.
  let source: Readable = stream;
  if (ended) {
    const replay = new PassThrough();
    replay.end(head);
    source = replay;
  } else if (head.length > 0) {
    stream.unshift(head);
  }
  switch (compression) {
    case "none":
      return { stream: source, compression };
    case "gzip": {
      const gunzip = createGunzip();
      // Errors surface on the returned stream; the promise itself is observed to avoid an
      // unhandled rejection.
      pipeline(source, gunzip, opts.signal ? { signal: opts.signal } : {}).catch((err: unknown) => {
        gunzip.destroy(err instanceof Error ? err : new Error(String(err)));
      });
      return { stream: gunzip, compression };
    }
    case "zstd":
      stream.destroy();
      throw invalidArgument("zstd-compressed layers are not supported yet");
    case "bzip2":
      stream.destroy();
      throw invalidArgument("bzip2-compressed layers are not supported");
    case "xz":
      stream.destroy();
      throw invalidArgument("xz-compressed layers are not supported");
  }
}

/** Options for `gzipStream`. */
export interface GzipOptions {
  /** zlib level 0–9; default 6, as `gzip` and Docker use. */
  level?: number;
  signal?: AbortSignal;
}

/** Gzips a stream (for pushing layers); the output errors if the input does. */
export function gzipStream(stream: Readable, opts: GzipOptions = {}): Readable {
  const gzip = createGzip({ level: opts.level ?? zlibConstants.Z_DEFAULT_COMPRESSION });
  pipeline(stream, gzip, opts.signal ? { signal: opts.signal } : {}).catch((err: unknown) => {
    gzip.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return gzip;
}

/** Reads up to `n` bytes from the front of `stream`, leaving the stream usable. */
async function peek(
  stream: Readable,
  n: number,
  signal: AbortSignal | undefined,
): Promise<{ head: Buffer; ended: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = true;
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    signal?.throwIfAborted();
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunkBytes(chunk));
    chunks.push(buf);
    length += buf.length;
    if (length >= n) {
      ended = false;
      break;
    }
  }
  return { head: Buffer.concat(chunks), ended };
}

function chunkBytes(chunk: unknown): Uint8Array | string {
  if (chunk instanceof Uint8Array || typeof chunk === "string") return chunk;
  throw invalidArgument("layer stream yielded a chunk that is not bytes");
}
