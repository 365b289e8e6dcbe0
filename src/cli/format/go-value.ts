/**
 * How JavaScript values are seen through Go's eyes by the template engine and the Go-style
 * printer. The mapping:
 *
 * | JavaScript                                   | Go                       |
 * |----------------------------------------------|--------------------------|
 * | `undefined`                                  | invalid value (missing)  |
 * | `null`                                       | nil                      |
 * | boolean, string                              | bool, string             |
 * | integral number, bigint                      | int                      |
 * | non-integral number, NaN, ±Infinity          | float64                  |
 * | array                                        | slice (`[]interface {}`) |
 * | `Uint8Array`                                 | `[]byte`                 |
 * | plain object, `Map`                          | map (sorted keys)        |
 * | instance of a class                          | struct (fields in order) |
 * | `Date`                                       | `time.Time`              |
 * | `Error`                                      | error                    |
 * | function                                     | func                     |
 *
 * JavaScript has one number type, so `1.0` is an int here; see template.ts for what follows.
 */

/** The Go kind a JavaScript value stands for. */
export type GoKind =
  | "invalid"
  | "nil"
  | "bool"
  | "int"
  | "float"
  | "string"
  | "slice"
  | "bytes"
  | "map"
  | "struct"
  | "func"
  | "time"
  | "error";

/** Objects the caller asked to treat as Go structs (unknown field → error). */
const structObjects = new WeakSet<object>();

/** Marks a plain object as a Go struct: unknown fields are execution errors, not `<no value>`. */
export function markStruct<T extends object>(obj: T): T {
  structObjects.add(obj);
  return obj;
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function goKind(v: unknown): GoKind {
  switch (typeof v) {
    case "undefined":
      return "invalid";
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "bigint":
      return "int";
    case "number":
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? "int" : "float";
    case "function":
      return "func";
    case "symbol":
      return "string";
    case "object":
      break;
  }
  if (v === null) return "nil";
  if (Array.isArray(v)) return "slice";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof Date) return "time";
  if (v instanceof Map) return "map";
  if (v instanceof Error) return "error";
  if (typeof v === "object" && (structObjects.has(v) || !isPlainObject(v))) return "struct";
  return "map";
}

/** The Go type name printed in error messages (`int`, `string`, `[]interface {}`, …). */
export function goTypeName(v: unknown): string {
  switch (goKind(v)) {
    case "invalid":
    case "nil":
      return "<nil>";
    case "bool":
      return "bool";
    case "int":
      return "int";
    case "float":
      return "float64";
    case "string":
      return "string";
    case "slice":
      return "[]interface {}";
    case "bytes":
      return "[]uint8";
    case "map":
      return "map[string]interface {}";
    case "func":
      return "func()";
    case "time":
      return "time.Time";
    case "error":
      return "*errors.errorString";
    case "struct": {
      const name = typeof v === "object" && v !== null ? v.constructor?.name : undefined;
      return name && name !== "Object" ? `*${name}` : "struct";
    }
  }
}

/** Compares strings by Unicode code point, like Go compares UTF-8 bytes. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  return compareCodePoints(String(a), String(b));
}

/** The entries of a Go map (plain object or `Map`), in Go's sorted key order. */
export function mapEntries(v: object): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> =
    v instanceof Map ? [...v.entries()] : Object.entries(v).filter(([, x]) => x !== undefined);
  return entries.sort((x, y) => compareKeys(x[0], y[0]));
}

/** The fields of a Go struct (class instance or marked object), in declaration order. */
export function structFields(v: object): Array<[string, unknown]> {
  return Object.entries(v).filter(([, x]) => typeof x !== "function" && x !== undefined);
}

/** Number of entries of a map. */
export function mapSize(v: object): number {
  return v instanceof Map ? v.size : Object.keys(v).length;
}

/** Looks a key up in a map; `undefined` when absent. */
export function mapGet(v: object, key: string): unknown {
  if (v instanceof Map) return v.get(key);
  return Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

/**
 * Looks a field or method up on an object: own properties, then (for class instances)
 * properties of the prototype chain below Object.prototype. `found` is false when absent.
 */
export function lookupMember(v: object, name: string): { found: boolean; value: unknown } {
  if (v instanceof Map) return { found: v.has(name), value: v.get(name) };
  if (Object.hasOwn(v, name)) return { found: true, value: (v as Record<string, unknown>)[name] };
  if (name === "constructor") return { found: false, value: undefined };
  let proto: unknown = Object.getPrototypeOf(v);
  while (proto !== null && proto !== Object.prototype && typeof proto === "object") {
    if (Object.hasOwn(proto, name)) return { found: true, value: Reflect.get(v, name) };
    proto = Object.getPrototypeOf(proto);
  }
  return { found: false, value: undefined };
}

/** Go's truth of a value (`if`, `with`, `and`, `or`, `not`). */
export function isTrue(v: unknown): boolean {
  switch (goKind(v)) {
    case "invalid":
    case "nil":
      return false;
    case "bool":
      return v === true;
    case "int":
    case "float":
      return typeof v === "bigint" ? v !== 0n : v !== 0;
    case "string":
      return (v as string).length > 0;
    case "slice":
      return (v as unknown[]).length > 0;
    case "bytes":
      return (v as Uint8Array).length > 0;
    case "map":
      return mapSize(v as object) > 0;
    default:
      return true;
  }
}
