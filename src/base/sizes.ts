/**
 * Sizes as people read them, with docker/go-units' rules: `humanSize` is units.HumanSize (decimal
 * units, 4 significant digits: "1.049MB"), `humanSizeWithPrecision` its general form (the docker
 * CLI's image, history, container and stats columns use 3 digits), `bytesSize` units.BytesSize
 * (binary units, 4 digits: "1.5KiB"). Digits are rounded as Go's %g rounds them (half to even on
 * the exact binary value), so 1125 bytes at 3 digits is "1.12kB", as Docker prints it.
 *
 * One place for the engine (progress messages) and the CLI and web view (columns, summaries).
 * Pure: computes strings. Parsing sizes from flags is the CLI's (cli/format/units.ts).
 */
import { formatFloat } from "./go-float.js";

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/** go-units' getSizeAndUnit: divides by `base` until below it or out of units. */
function sizeAndUnit(size: number, base: number, units: readonly string[]): [number, string] {
  let i = 0;
  let s = size;
  while (s >= base && i < units.length - 1) {
    s /= base;
    i++;
  }
  return [s, units[i]!];
}

/** units.HumanSizeWithPrecision: decimal units, `precision` significant digits (%.*g). */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  const [s, unit] = sizeAndUnit(bytes, 1000, DECIMAL_UNITS);
  return `${formatFloat(s, "g", precision)}${unit}`;
}

/** units.HumanSize: decimal units, 4 significant digits, e.g. 1234 → "1.234kB", 1e6 → "1MB". */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 4);
}

/** units.BytesSize: binary units, 4 significant digits, e.g. 1536 → "1.5KiB". */
export function bytesSize(bytes: number): string {
  const [s, unit] = sizeAndUnit(bytes, 1024, BINARY_UNITS);
  return `${formatFloat(s, "g", 4)}${unit}`;
}
