/**
 * Checking the engine's answers at the boundary: each answer's shape (its required fields and
 * their JSON types) is verified before it is used as the API type it claims to be. A server that
 * answers something else is reported (Unavailable, naming the answer), never trusted.
 */
import { unavailable } from "../base/errors.js";

export type JsonKind = "string" | "number" | "boolean" | "object" | "array" | "object?" | "array?";

function kindOk(v: unknown, kind: JsonKind): boolean {
  switch (kind) {
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    case "array":
      return Array.isArray(v);
    case "object?":
      return v === undefined || v === null || (typeof v === "object" && !Array.isArray(v));
    case "array?":
      return v === undefined || v === null || Array.isArray(v);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A type guard from a field table: every listed field has its JSON kind. */
export function shape<T>(fields: Readonly<Record<string, JsonKind>>): (v: unknown) => v is T {
  return (v: unknown): v is T => {
    if (!isObject(v)) return false;
    for (const [k, kind] of Object.entries(fields)) if (!kindOk(v[k], kind)) return false;
    return true;
  };
}

/** The value as T when the guard accepts it; Unavailable naming `what` otherwise. */
export function expect<T>(v: unknown, guard: (v: unknown) => v is T, what: string): T {
  if (guard(v)) return v;
  throw unavailable(`the engine's answer to ${what} is not what the Docker API describes`);
}

/** A list whose every item the guard accepts (null is the empty list, as Go encodes nil slices). */
export function expectList<T>(v: unknown, guard: (v: unknown) => v is T, what: string): T[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw unavailable(`the engine's answer to ${what} is not a list`);
  const out: T[] = [];
  for (const item of v) out.push(expect(item, guard, what));
  return out;
}

export function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}
