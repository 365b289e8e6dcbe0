/**
 * Image list and prune filters, with Docker's accepted keys and error wording.
 * Pure: it decides which records match; it never reads the store itself.
 */
import { parseGoDurationNs } from "../base/duration.js";
import { invalidArgument } from "../base/errors.js";
import type { Filters } from "../engine/types.js";

/** Rejects keys a command does not accept: `invalid filter 'foo'`, as Docker says. */
export function checkFilterKeys(filters: Filters | undefined, allowed: readonly string[]): void {
  for (const key of Object.keys(filters ?? {})) {
    if (!allowed.includes(key)) throw invalidArgument(`invalid filter '${key}'`);
  }
}

export function filterValues(filters: Filters | undefined, key: string): readonly string[] {
  return filters?.[key] ?? [];
}

/** `dangling=true|false|1|0`; undefined when absent. */
export function boolFilter(filters: Filters | undefined, key: string): boolean | undefined {
  const values = filterValues(filters, key);
  if (values.length === 0) return undefined;
  let result: boolean | undefined;
  for (const v of values) {
    const lower = v.toLowerCase();
    let b: boolean;
    if (lower === "true" || lower === "1") b = true;
    else if (lower === "false" || lower === "0") b = false;
    else throw invalidArgument(`invalid filter '${key}=${v}'`);
    if (result !== undefined && result !== b)
      throw invalidArgument(`invalid filter '${key}': conflicting values`);
    result = b;
  }
  return result;
}

/** `label=key`, `label=key=value` (and `label!=…` for prune): true when labels match all. */
export function matchLabels(
  labels: Readonly<Record<string, string>>,
  wanted: readonly string[],
  negate = false,
): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf("=");
    const key = eq < 0 ? w : w.slice(0, eq);
    const hit =
      eq < 0 ? Object.hasOwn(labels, key) : Object.hasOwn(labels, key) && labels[key] === w.slice(eq + 1);
    return negate ? !hit : hit;
  });
}

/**
 * Go's path.Match for `reference=` patterns: `*` matches any run of non-`/` characters, `?` one
 * non-`/` character, `[...]` a class; `\\` escapes.
 */
export function pathMatch(pattern: string, name: string): boolean {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i] as string);
    else if (c === "[") {
      // A class runs to the first unescaped "]"; "\\x" inside it is a literal x.
      let j = i + 1;
      let cls = "";
      if (pattern[j] === "^") {
        cls += "^";
        j++;
      }
      let closed = false;
      for (; j < pattern.length; j++) {
        const d = pattern[j] as string;
        if (d === "\\" && j + 1 < pattern.length) cls += `\\${pattern[++j]}`;
        else if (d === "]") {
          closed = true;
          break;
        } else if (d === "-") cls += "-";
        else cls += escapeRe(d);
      }
      if (!closed || cls === "" || cls === "^")
        throw invalidArgument(`invalid reference pattern: ${pattern}`);
      re += `[${cls}]`;
      i = j;
    } else re += escapeRe(c);
  }
  return new RegExp(`${re}$`).test(name);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * `until=` values as Docker accepts them: a Unix timestamp (seconds, fractional allowed), an
 * RFC 3339 date or date-time, or a Go duration relative to now (`10m`, `1h30m`, `24h`).
 * Returns milliseconds since the epoch.
 */
export function parseTimestamp(value: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const dur = parseGoDuration(value);
  if (dur !== undefined) return now - dur;
  const t = Date.parse(value);
  if (!Number.isNaN(t)) return t;
  throw invalidArgument(`failed to parse value as time or duration: "${value}"`);
}

/** Go's time.ParseDuration in milliseconds, or undefined when `value` is not a duration. */
export function parseGoDuration(value: string): number | undefined {
  const r = parseGoDurationNs(value);
  return "error" in r ? undefined : r.ns / 1e6;
}
