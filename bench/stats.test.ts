import assert from "node:assert/strict";
import { test } from "node:test";
import { formatMs, formatRatio, formatSummary, markdownTable, ratio, summarize } from "./stats.js";

test("summarize: median of odd and even counts, min and max", () => {
  assert.deepEqual(summarize([5, 1, 3]), { median: 3, min: 1, max: 5, n: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
  assert.equal(summarize([]), undefined);
});

test("formatting: milliseconds, ranges, ratios", () => {
  assert.equal(formatMs(7.44), "7.4 ms");
  assert.equal(formatMs(312.4), "312 ms");
  assert.equal(formatMs(2410), "2.41 s");
  assert.equal(formatSummary({ median: 312, min: 298, max: 340, n: 5 }), "312 ms (298–340 ms)");
  const a = summarize([300, 310, 320]);
  const b = summarize([30, 40, 50]);
  assert.ok(a && b);
  assert.equal(formatRatio(ratio(a, b)), "7.75×");
  assert.equal(formatRatio(12.4), "12×");
});

test("markdownTable escapes pipes", () => {
  assert.equal(markdownTable(["a", "b"], [["x|y", "1"]]), "| a | b |\n| --- | --- |\n| x\\|y | 1 |");
});
