/**
 * Streams checked against their descriptor while they flow: bytes are counted and hashed, more
 * bytes than the descriptor's size fail at once, and at the end a short stream or a different
 * digest fails the stream, so nothing downstream ever sees a clean end of wrong bytes.
 */
import { Transform, type TransformCallback } from "node:stream";
import { invalidArgument } from "../base/errors.js";
import { type Digest, digester } from "../oci/digest.js";

export interface VerifyOptions {
  /** Called with the running byte count as chunks pass. */
  readonly onBytes?: (total: number) => void;
}

/** Docker's message for a blob whose bytes do not match its digest. */
export function verificationFailed(digest: Digest, detail: string) {
  return invalidArgument(`filesystem layer verification failed for digest ${digest}: ${detail}`);
}

/** A pass-through that fails unless exactly `size` bytes hashing to `digest` go through it. */
export function verifyingStream(digest: Digest, size: number, opts: VerifyOptions = {}): Transform {
  const hash = digester();
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      total += chunk.byteLength;
      if (total > size) {
        cb(verificationFailed(digest, `more than the ${size} bytes the descriptor declares`));
        return;
      }
      hash.update(chunk);
      opts.onBytes?.(total);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (total !== size) {
        cb(verificationFailed(digest, `got ${total} bytes, expected ${size}`));
        return;
      }
      const actual = hash.digest();
      if (actual !== digest) {
        cb(verificationFailed(digest, `the content hashes to ${actual}`));
        return;
      }
      cb();
    },
  });
}

/** A pass-through that reports the running byte count. */
export function countingStream(onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      total += chunk.byteLength;
      onBytes(total);
      cb(null, chunk);
    },
  });
}
