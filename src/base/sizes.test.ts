/**
 * Sizes against docker/go-units: its own size_test.go table, read at run time from the shared
 * conformance data (`shared/conformance-data/go-units/` beside the checkout or above it, or named
 * by BERTH_CONFORMANCE_DATA; never copied into the project), and cases whose expected strings
 * go-units itself printed (ties that Go rounds half to even, huge sizes in %g's exponent form).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { bytesSize, humanSize, humanSizeWithPrecision } from "./sizes.js";

/** `<dir>/go-units` of the first conformance-data directory found, from this file upwards. */
function goUnitsData(): string | undefined {
  const dirs = [process.env.BERTH_CONFORMANCE_DATA, "/work/shared/conformance-data"];
  for (let d = dirname(fileURLToPath(import.meta.url)); dirname(d) !== d; d = dirname(d))
    dirs.splice(1, 0, join(d, "shared", "conformance-data"));
  return dirs.map((d) => d && join(d, "go-units")).find((d) => d !== undefined && existsSync(d));
}

interface FormatCase {
  readonly fn: string;
  readonly expr: string;
  readonly arg: number;
  readonly expected: string;
}

function isFormatCase(v: unknown): v is FormatCase {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.fn === "string" &&
    typeof o.expr === "string" &&
    typeof o.arg === "number" &&
    typeof o.expected === "string"
  );
}

const DATA = goUnitsData();
test(
  "HumanSize and BytesSize print go-units' own size_test.go table",
  DATA === undefined ? { todo: "go-units conformance data not found (set BERTH_CONFORMANCE_DATA)" } : {},
  () => {
    const table: unknown = JSON.parse(readFileSync(join(DATA ?? "", "size_test.json"), "utf8"));
    const cases = (table as { format?: unknown }).format;
    assert.ok(
      Array.isArray(cases) && cases.every(isFormatCase),
      "size_test.json: format is not a table of cases",
    );
    const fns: Record<string, (n: number) => string> = { HumanSize: humanSize, BytesSize: bytesSize };
    let checked = 0;
    for (const c of cases) {
      const fn = fns[c.fn];
      assert.ok(fn, `size_test.json names ${c.fn}, which berth does not have`);
      assert.equal(fn(c.arg), c.expected, `${c.fn}(${c.expr})`);
      checked++;
    }
    assert.ok(checked >= 10, `only ${checked} cases in size_test.json`);
  },
);

test("HumanSizeWithPrecision rounds as Go's %g does (3 digits for image sizes, 4 for HumanSize)", () => {
  const cases: Array<[number, string, string, string]> = [
    [0, "0B", "0B", "0B"],
    [1, "1B", "1B", "1B"],
    [512, "512B", "512B", "512B"],
    [999, "999B", "999B", "999B"],
    [1000, "1kB", "1000B", "1kB"],
    [1234, "1.23kB", "1.205KiB", "1.234kB"],
    [2048, "2.05kB", "2KiB", "2.048kB"],
    [49152, "49.2kB", "48KiB", "49.15kB"],
    [999999, "1e+03kB", "976.6KiB", "1000kB"],
    [1125, "1.12kB", "1.099KiB", "1.125kB"],
    [4335400, "4.34MB", "4.135MiB", "4.335MB"],
    [45_000_000, "45MB", "42.92MiB", "45MB"],
    [1e9, "1GB", "953.7MiB", "1GB"],
    [123456789, "123MB", "117.7MiB", "123.5MB"],
    [5.5e12, "5.5TB", "5.002TiB", "5.5TB"],
    [1e30, "1e+06YB", "8.272e+05YiB", "1e+06YB"],
  ];
  for (const [size, human3, binary, human4] of cases) {
    assert.equal(humanSizeWithPrecision(size, 3), human3, `HumanSizeWithPrecision(${size}, 3)`);
    assert.equal(bytesSize(size), binary, `BytesSize(${size})`);
    assert.equal(humanSize(size), human4, `HumanSize(${size})`);
  }
});
