/**
 * The one JSON writer for documents berth stores (image configs, manifests, indexes), whose
 * digests are their identities: the image ID is the sha256 of the config bytes. Output is
 * deterministic: no whitespace, object keys in insertion order (the typed encoders in image.ts
 * insert them in the order of our types), `Map`s in their order (free-form maps such as labels
 * are passed as sorted `Map`s: a plain object would put integer-like keys first), `undefined`
 * members omitted,
 * and `<`, `>`, `&`, U+2028, U+2029 escaped as Go's encoding/json does, so berth writes what
 * Docker would for the same value.
 * Pure: it never reorders what it is given.
 */
import { Buffer } from "node:buffer";

/** A value `canonicalJson` can write. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | ReadonlyMap<string, JsonValue>
  | { readonly [key: string]: JsonValue | undefined };

const GO_ESCAPES: Readonly<Record<string, string>> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

function writeString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
}

function write(v: JsonValue, out: string[]): void {
  if (v === null) {
    out.push("null");
  } else if (typeof v === "string") {
    out.push(writeString(v));
  } else if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: cannot write ${v}`);
    out.push(JSON.stringify(v));
  } else if (typeof v === "boolean") {
    out.push(v ? "true" : "false");
  } else if (Array.isArray(v)) {
    out.push("[");
    v.forEach((item: JsonValue, i: number) => {
      if (i > 0) out.push(",");
      write(item, out);
    });
    out.push("]");
  } else {
    out.push("{");
    let first = true;
    const entries: Iterable<[string, JsonValue | undefined]> =
      v instanceof Map ? v.entries() : Object.entries(v);
    for (const [key, value] of entries) {
      if (value === undefined) continue;
      if (!first) out.push(",");
      first = false;
      out.push(writeString(key), ":");
      write(value, out);
    }
    out.push("}");
  }
}

/** The canonical JSON text of a value. */
export function canonicalJsonString(value: JsonValue): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

/** The canonical JSON bytes (UTF-8) of a value. */
export function canonicalJson(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(canonicalJsonString(value));
}

/** A string map as a `Map` with its keys sorted (Go encodes maps in key order). */
export function sortedMap<T extends JsonValue>(
  map: Readonly<Record<string, T>> | undefined,
): Map<string, T> | undefined {
  if (map === undefined) return undefined;
  const out = new Map<string, T>();
  for (const key of Object.keys(map).sort(compareKeys)) out.set(key, map[key]!);
  return out;
}

/** Byte-wise order of UTF-16 strings as Go sorts map keys (by UTF-8 bytes). */
function compareKeys(a: string, b: string): number {
  const ba = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  return Buffer.compare(ba, bb);
}
