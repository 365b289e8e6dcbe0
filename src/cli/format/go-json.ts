/**
 * JSON encoding the way Go's encoding/json writes it: Go's string escapes (U+2028/U+2029
 * always escaped, `<>&` only with HTML escaping on), maps with sorted keys, objects in property
 * order (Go structs), `[]byte` as base64, times as RFC 3339, and errors for NaN/Inf.
 */
import { Buffer } from "node:buffer";
import { compareCodePoints, goKind, mapEntries } from "./go-value.js";

/** Options of {@link encodeJson}. */
export interface JsonOptions {
  /** Escape `<`, `>` and `&` as \u003c… (Go's default; Docker's `json` function turns it off). */
  escapeHtml?: boolean;
  /** Indent unit; compact output when absent. */
  indent?: string;
  /** Sort the keys of plain objects, as Go does for maps (default: property order, as for structs). */
  sortKeys?: boolean;
}

const HEX = "0123456789abcdef";

/** A Go JSON string literal. */
export function jsonString(s: string, escapeHtml = false): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c < 0x20) {
      if (c === 0x0a) out += "\\n";
      else if (c === 0x0d) out += "\\r";
      else if (c === 0x09) out += "\\t";
      else if (c === 0x08) out += "\\b";
      else if (c === 0x0c) out += "\\f";
      else out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (escapeHtml && (c === 0x3c || c === 0x3e || c === 0x26)) {
      out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16)}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        out += "\ufffd";
      }
    } else out += s[i];
  }
  return `${out}"`;
}

/** Go's RFC 3339 with nanoseconds, trailing zeros of the fraction dropped. */
function rfc3339(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(19, 23).replace(/\.?0+$/, "");
  return `${iso.slice(0, 19)}${frac}Z`;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Encodes a value as Go's json.Marshal (or MarshalIndent) would; throws on NaN/Inf or cycles. */
export function encodeJson(value: unknown, opts: JsonOptions = {}): string {
  const escapeHtml = opts.escapeHtml ?? true;
  const seen = new Set<object>();
  const enc = (v: unknown, indent: string): string => {
    const inner = opts.indent === undefined ? "" : indent + opts.indent;
    const nl = (ind: string) => (opts.indent === undefined ? "" : `\n${ind}`);
    const colon = opts.indent === undefined ? ":" : ": ";
    if (
      typeof v === "object" &&
      v !== null &&
      "toJSON" in v &&
      typeof v.toJSON === "function" &&
      !(v instanceof Date)
    ) {
      return enc(v.toJSON(), indent);
    }
    switch (goKind(v)) {
      case "invalid":
      case "nil":
      case "func":
        return "null";
      case "bool":
        return v ? "true" : "false";
      case "int":
        return typeof v === "bigint" ? v.toString() : BigInt(v as number).toString();
      case "float": {
        const x = v as number;
        if (!Number.isFinite(x))
          throw new Error(`json: unsupported value: ${Number.isNaN(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf"}`);
        return String(x);
      }
      case "string":
        return jsonString(String(v), escapeHtml);
      case "bytes":
        return jsonString(base64(v as Uint8Array));
      case "time":
        return jsonString(rfc3339(v as Date));
      case "error":
        return "{}";
      default:
        break;
    }
    const obj = v as object;
    if (seen.has(obj)) throw new Error("json: unsupported value: encountered a cycle");
    seen.add(obj);
    try {
      if (Array.isArray(obj)) {
        if (obj.length === 0) return "[]";
        return `[${obj.map((x) => nl(inner) + enc(x, inner)).join(",")}${nl(indent)}]`;
      }
      let entries: Array<[unknown, unknown]>;
      if (goKind(obj) === "map" && obj instanceof Map) entries = mapEntries(obj);
      else entries = objectEntries(obj);
      if (opts.sortKeys && goKind(obj) === "map") {
        entries.sort((a, b) => compareCodePoints(String(a[0]), String(b[0])));
      }
      if (entries.length === 0) return "{}";
      const parts = entries.map(
        ([k, x]) => `${nl(inner)}${jsonString(String(k), escapeHtml)}${colon}${enc(x, inner)}`,
      );
      return `{${parts.join(",")}${nl(indent)}}`;
    } finally {
      seen.delete(obj);
    }
  };
  return enc(value, "");
}

/**
 * Properties of an object in order, like a Go struct: own data properties, and methods that
 * take no argument are called (Docker's formatter marshals a row's methods that way).
 */
function objectEntries(obj: object): Array<[unknown, unknown]> {
  const out: Array<[unknown, unknown]> = [];
  for (const [k, x] of Object.entries(obj)) {
    if (typeof x === "function") {
      if (x.length === 0) out.push([k, Reflect.apply(x, obj, [])]);
    } else if (x !== undefined) out.push([k, x]);
  }
  return out;
}
