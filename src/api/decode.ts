/**
 * Parsing at the boundary: query parameters and JSON bodies into typed values. Wrong types are
 * InvalidArgument (400) naming the field; fields a decoder does not know are left alone, as
 * Docker's Go decoder ignores them.
 */
import { invalidArgument } from "../base/errors.js";
import type { Filters } from "../engine/types.js";

// ---------------------------------------------------------------------------------------------
// Query parameters

/** Docker's boolValue: absent, "", "0", "no", "false" and "none" are false; anything else true. */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !["", "0", "no", "false", "none"].includes(v.trim().toLowerCase());
}

/** A boolean that may be absent (undefined), for parameters whose default is true. */
export function queryOptBool(q: URLSearchParams, name: string): boolean | undefined {
  return q.has(name) ? queryBool(q, name) : undefined;
}

/** An integer parameter; absent or "" is undefined; anything else that is not an integer is 400. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^[-+]?\d+$/.test(v)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return n;
}

export function queryString(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null ? undefined : v;
}

/**
 * The `filters` parameter: JSON `{"key": ["v", …]}`, or the older `{"key": {"v": true}}` form
 * Docker still accepts. Absent or empty is undefined.
 */
export function queryFilters(q: URLSearchParams, name = "filters"): Filters | undefined {
  const raw = q.get(name);
  if (raw === null || raw.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    throw invalidArgument(`invalid filter: ${raw}`);
  }
  return decodeFilters(parsed, name);
}

/** The `filters` parameter as a list or prune verb's options: `{ filters }`, or `{}` when absent. */
export function filterOptions(q: URLSearchParams): { filters?: Filters } {
  const filters = queryFilters(q);
  return filters ? { filters } : {};
}

export function decodeFilters(value: unknown, field = "filters"): Filters {
  if (!isRecord(value)) throw invalidArgument(`invalid ${field}: want an object`);
  const out: Record<string, string[]> = {};
  for (const [key, v] of Object.entries(value)) {
    if (Array.isArray(v)) {
      out[key] = v.map((x) => {
        if (typeof x !== "string") throw invalidArgument(`invalid ${field}: ${key} values must be strings`);
        return x;
      });
    } else if (isRecord(v)) {
      out[key] = Object.entries(v)
        .filter(([, on]) => on === true)
        .map(([k]) => k);
    } else {
      throw invalidArgument(`invalid ${field}: ${key} must be a list`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON values

export type JsonRecord = { readonly [key: string]: unknown };

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A JSON object reader that names the field in every error (`HostConfig.Memory`). Each getter
 * returns undefined for an absent (or null, where Go would leave a zero value) field.
 */
export class Fields {
  readonly path: string;
  private readonly obj: JsonRecord;

  constructor(value: unknown, path: string) {
    if (!isRecord(value)) throw wrongType(path, "an object", value);
    this.obj = value;
    this.path = path;
  }

  /** An object that may be absent or null: undefined then. */
  static optional(value: unknown, path: string): Fields | undefined {
    return value === undefined || value === null ? undefined : new Fields(value, path);
  }

  has(name: string): boolean {
    return this.obj[name] !== undefined;
  }

  raw(name: string): unknown {
    return this.obj[name];
  }

  keys(): string[] {
    return Object.keys(this.obj);
  }

  at(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  string(name: string): string | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw wrongType(this.at(name), "a string", v);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw wrongType(this.at(name), "a boolean", v);
    return v;
  }

  /** An integer (Go's int64 fields): fractions and out-of-range numbers are refused. */
  int(name: string): number | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) throw wrongType(this.at(name), "an integer", v);
    return v;
  }

  number(name: string): number | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) throw wrongType(this.at(name), "a number", v);
    return v;
  }

  /** A list of strings; null stays null (Docker distinguishes "unset" from "empty" for some). */
  strings(name: string): string[] | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw wrongType(this.at(name), "a list of strings", v);
    return v.map((x, i) => {
      if (typeof x !== "string") throw wrongType(`${this.at(name)}[${i}]`, "a string", x);
      return x;
    });
  }

  /**
   * Go's strslice.StrSlice (Cmd, Entrypoint, Shell, Healthcheck.Test): a list of strings, or one
   * string, which becomes a list of one.
   */
  strSlice(name: string): string[] | undefined {
    const v = this.obj[name];
    if (typeof v === "string") return [v];
    return this.strings(name);
  }

  /** An object of strings (Labels, Sysctls, DriverOpts). */
  stringMap(name: string): Record<string, string> | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) throw wrongType(this.at(name), "an object of strings", v);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== "string") throw wrongType(`${this.at(name)}.${k}`, "a string", x);
      out[k] = x;
    }
    return out;
  }

  /** An object used as a set (`{"80/tcp": {}}`): its keys. */
  keySet(name: string): Record<string, Record<string, never>> | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) throw wrongType(this.at(name), "an object", v);
    const out: Record<string, Record<string, never>> = {};
    for (const k of Object.keys(v)) out[k] = {};
    return out;
  }

  object(name: string): Fields | undefined {
    return Fields.optional(this.obj[name], this.at(name));
  }

  /** A list of objects. */
  objects(name: string): Fields[] | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw wrongType(this.at(name), "a list", v);
    return v.map((x, i) => new Fields(x, `${this.at(name)}[${i}]`));
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function wrongType(path: string, want: string, got: unknown): Error {
  return invalidArgument(`invalid JSON: ${path} must be ${want}, not ${describe(got)}`);
}
