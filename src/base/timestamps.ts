/**
 * Time arguments as Docker's CLI reads them (`events --since/--until`, docker/cli's
 * timetypes.GetTimestamp): a Go duration relative to now (`10m`, `1h30m`), an RFC 3339 date or
 * date-time (fractional seconds and a zone optional; without a zone, the local zone), or a Unix
 * timestamp `seconds[.nanoseconds]`. Pure: the caller passes the clock and the zone offset.
 */
import { invalidArgument } from "./errors.js";

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in ms; undefined when `value` is not a duration. */
export function parseGoDurationMs(value: string): number | undefined {
  if (/^[-+]?0$/.test(value)) return 0;
  if (!/^[-+]?((\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/.test(value)) return undefined;
  let total = 0;
  for (const part of value.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] as string] ?? 0);
  }
  return value.startsWith("-") ? -total : total;
}

/** A Unix timestamp `seconds[.nanoseconds]` in seconds; undefined when it is not one. */
export function parseUnixTimestamp(value: string): number | undefined {
  if (!/^\d+(\.\d{1,9})?$/.test(value)) return undefined;
  return Number(value);
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

export interface TimeArgumentOptions {
  /** Now, in ms since the epoch. */
  readonly now: number;
  /** The local zone's offset from UTC at a given instant, in minutes east (default: the JS runtime's). */
  readonly localOffsetMinutes?: (utcMs: number) => number;
}

/** One of Docker's time arguments → Unix seconds (fractional). InvalidArgument when unparsable. */
export function parseTimeArgument(value: string, opts: TimeArgumentOptions): number {
  const dur = value === "0" ? undefined : parseGoDurationMs(value);
  if (dur !== undefined) return (opts.now - dur) / 1000;
  const m = DATE_TIME.exec(value);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const fields = [
      Number(y),
      Number(mo),
      Number(d),
      Number(h ?? 0),
      Number(mi ?? 0),
      Number(s ?? 0),
    ] as const;
    if (
      fields[1] < 1 ||
      fields[1] > 12 ||
      fields[2] < 1 ||
      fields[2] > 31 ||
      fields[3] > 23 ||
      fields[4] > 59 ||
      fields[5] > 59
    ) {
      throw invalidArgument(`parsing time "${value}": value out of range`);
    }
    const wall = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]);
    let offsetMin: number;
    if (zone === undefined) {
      const local = opts.localOffsetMinutes ?? ((ms: number) => -new Date(ms).getTimezoneOffset());
      // The offset at the wall time read as UTC, corrected once (DST edges).
      offsetMin = local(wall - local(wall) * 60_000);
    } else if (zone === "Z" || zone === "z") {
      offsetMin = 0;
    } else {
      const sign = zone.startsWith("-") ? -1 : 1;
      offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    }
    return (wall - offsetMin * 60_000) / 1000 + (frac ? Number(frac) : 0);
  }
  if (value.includes("-")) throw invalidArgument(`parsing time "${value}": not an RFC 3339 time`);
  const unix = parseUnixTimestamp(value);
  if (unix !== undefined) return unix;
  throw invalidArgument(`failed to parse value as time or duration: "${value}"`);
}
