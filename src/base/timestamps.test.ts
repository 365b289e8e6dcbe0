import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "./errors.js";
import { parseTimeArgument } from "./timestamps.js";

const now = Date.UTC(2026, 0, 15, 12, 0, 0);
const utc = { now, localOffsetMinutes: () => 0 };
const plus2 = { now, localOffsetMinutes: () => 120 };

test("durations are relative to now", () => {
  assert.equal(parseTimeArgument("10m", utc), (now - 600_000) / 1000);
  assert.equal(parseTimeArgument("1h30m", utc), (now - 5_400_000) / 1000);
});

test("unix timestamps, with nanoseconds", () => {
  assert.equal(parseTimeArgument("1700000000", utc), 1_700_000_000);
  assert.equal(parseTimeArgument("1700000000.5", utc), 1_700_000_000.5);
  assert.equal(parseTimeArgument("0", utc), 0);
});

test("RFC 3339 forms; without a zone, the local zone", () => {
  const t = Date.UTC(2026, 0, 2, 13, 23, 37) / 1000;
  assert.equal(parseTimeArgument("2026-01-02T13:23:37Z", utc), t);
  assert.equal(parseTimeArgument("2026-01-02T15:23:37+02:00", utc), t);
  assert.equal(parseTimeArgument("2026-01-02T15:23:37", plus2), t);
  assert.equal(parseTimeArgument("2026-01-02T13:23:37.25Z", utc), t + 0.25);
  assert.equal(parseTimeArgument("2026-01-02", utc), Date.UTC(2026, 0, 2) / 1000);
  assert.equal(parseTimeArgument("2026-01-02", plus2), Date.UTC(2026, 0, 1, 22) / 1000);
  assert.equal(parseTimeArgument("2026-01-02T13", utc), Date.UTC(2026, 0, 2, 13) / 1000);
});

test("anything else is refused", () => {
  for (const bad of ["yesterday", "2026-13-01", "12:00", "10x", "-5"]) {
    assert.throws(
      () => parseTimeArgument(bad, utc),
      (e) => isBerthError(e, "InvalidArgument"),
      bad,
    );
  }
});
