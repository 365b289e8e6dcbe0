/**
 * Content digests (`sha256:<64 lowercase hex>`), the addresses of everything in the store.
 * It hashes bytes it is given; it never reads a blob itself.
 */
import { createHash } from "node:crypto";
import { invalidArgument } from "../base/errors.js";

declare const digestBrand: unique symbol;
/** A validated `algorithm:hex` digest. Only sha256 is supported, as Docker does by default. */
export type Digest = string & { readonly [digestBrand]: true };

const SHA256 = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigest(s: string): s is Digest {
  return SHA256.test(s);
}

/** Parses a digest with the errors of the OCI digest package ("invalid checksum digest format"). */
export function parseDigest(s: string): Digest {
  if (SHA256.test(s)) return s as Digest;
  if (!ANY_DIGEST.test(s)) throw invalidArgument(`invalid checksum digest format: ${JSON.stringify(s)}`);
  const [algo, hex] = s.split(":") as [string, string];
  if (algo !== "sha256") throw invalidArgument(`unsupported digest algorithm: ${algo}`);
  if (hex.length !== 64) throw invalidArgument(`invalid checksum digest length: ${JSON.stringify(s)}`);
  throw invalidArgument(`invalid checksum digest format: ${JSON.stringify(s)}`);
}

/** The hex part of a digest (the file name under blobs/sha256/). */
export function digestHex(d: Digest): string {
  return d.slice(7);
}

export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}` as Digest;
}

/** An incremental hasher that yields a Digest. */
export function digester(): { update(chunk: Uint8Array): void; digest(): Digest } {
  const h = createHash("sha256");
  return {
    update(chunk) {
      h.update(chunk);
    },
    digest() {
      return `sha256:${h.digest("hex")}` as Digest;
    },
  };
}

/** Short image ID as Docker prints it: the first 12 hex characters. */
export function shortId(d: string): string {
  return d.replace(/^sha256:/, "").slice(0, 12);
}

/**
 * chainID of a layer stack (OCI image spec, "Layer ChainID"):
 * ChainID(L0) = DiffID(L0); ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln)).
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  let prev: Digest | undefined;
  for (const d of diffIds) {
    prev = prev === undefined ? d : sha256Digest(`${prev} ${d}`);
    out.push(prev);
  }
  return out;
}
