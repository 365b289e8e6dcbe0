/**
 * Strict decoding of JSON documents from untrusted bytes into typed values: a size bound, strict
 * UTF-8, an object at the top, and typed field readers whose errors name the document and the
 * field (`invalid image manifest: layers[1].size: expected a non-negative integer`).
 * Pure: it never returns a field it did not check.
 */
import { invalidArgument } from "../base/errors.js";

/** A JSON object as read from outside: its members are still unknown. */
export type JsonObject = { readonly [key: string]: unknown };

/** Reads typed fields of one document; `what` names the document in error messages. */
export class JsonReader {
  constructor(readonly what: string) {}

  fail(where: string, problem: string): never {
    throw invalidArgument(where === "" ? `${this.what}: ${problem}` : `${this.what}: ${where}: ${problem}`);
  }

  /** Decodes bytes into a top-level JSON object, at most `maxBytes` long. */
  parse(bytes: Uint8Array, maxBytes: number): JsonObject {
    if (bytes.byteLength > maxBytes) {
      this.fail("", `document of ${bytes.byteLength} bytes exceeds the limit of ${maxBytes} bytes`);
    }
    let text: string;
    try {
      // ignoreBOM keeps a byte-order mark in the text, where JSON.parse rejects it (as Go does).
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      this.fail("", "not valid UTF-8");
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.fail("", `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    return this.object(value, "");
  }

  isObject(v: unknown): v is JsonObject {
    return typeof v === "object" && v !== null && !Array.isArray(v);
  }

  object(v: unknown, where: string): JsonObject {
    if (!this.isObject(v)) this.fail(where, "expected an object");
    return v;
  }

  string(v: unknown, where: string): string {
    if (typeof v !== "string") this.fail(where, "expected a string");
    return v;
  }

  optString(o: JsonObject, key: string, where: string): string | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.string(v, join(where, key));
  }

  boolean(v: unknown, where: string): boolean {
    if (typeof v !== "boolean") this.fail(where, "expected a boolean");
    return v;
  }

  optBoolean(o: JsonObject, key: string, where: string): boolean | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.boolean(v, join(where, key));
  }

  /** A safe integer (Go int64 values beyond 2^53 are refused rather than rounded). */
  integer(v: unknown, where: string): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) this.fail(where, "expected an integer");
    return v;
  }

  optInteger(o: JsonObject, key: string, where: string): number | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.integer(v, join(where, key));
  }

  nonNegativeInteger(v: unknown, where: string): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      this.fail(where, "expected a non-negative integer");
    }
    return v;
  }

  array(v: unknown, where: string): readonly unknown[] {
    if (!Array.isArray(v)) this.fail(where, "expected an array");
    return v;
  }

  /** An array of strings; null reads as absent (Go writes nil slices as null). */
  optStrings(o: JsonObject, key: string, where: string): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const w = join(where, key);
    return this.array(v, w).map((item, i) => this.string(item, `${w}[${i}]`));
  }

  /** A map of strings to strings; null reads as absent, a null value as "" (as Go does). */
  optStringMap(o: JsonObject, key: string, where: string): Record<string, string> | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const w = join(where, key);
    const m = this.object(v, w);
    const out: Record<string, string> = {};
    for (const [k, item] of Object.entries(m)) {
      setOwn(out, k, item === null ? "" : this.string(item, `${w}.${k}`));
    }
    return out;
  }

  /** A set encoded as a map to empty objects (`ExposedPorts`, `Volumes`); null reads as absent. */
  optSet(o: JsonObject, key: string, where: string): Record<string, Record<string, never>> | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const w = join(where, key);
    const m = this.object(v, w);
    const out: Record<string, Record<string, never>> = {};
    for (const [k, item] of Object.entries(m)) {
      if (item !== null) this.object(item, `${w}.${k}`);
      setOwn(out, k, {});
    }
    return out;
  }
}

/** `a.b` path of a member for error messages. */
export function join(where: string, key: string): string {
  return where === "" ? key : `${where}.${key}`;
}

/** Sets an own property, even one named `__proto__` (plain assignment would set the prototype). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
