/** Expected strings were produced by docker/go-units itself. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { fromHumanSize, humanDuration, ramInBytes, timeAgo } from "./units.js";

test("humanDuration follows go-units HumanDuration", () => {
  const cases: Array<[number, string]> = [
    [0, "Less than a second"],
    [999, "Less than a second"],
    [-5000, "Less than a second"],
    [1000, "1 second"],
    [1999, "1 second"],
    [59_000, "59 seconds"],
    [60_000, "About a minute"],
    [119_000, "About a minute"],
    [120_000, "2 minutes"],
    [3_599_000, "59 minutes"],
    [3_600_000, "About an hour"],
    [5_400_000, "2 hours"],
    [7_200_000, "2 hours"],
    [47 * 3_600_000, "47 hours"],
    [48 * 3_600_000, "2 days"],
    [13 * 86_400_000, "13 days"],
    [14 * 86_400_000, "2 weeks"],
    [59 * 86_400_000, "8 weeks"],
    [60 * 86_400_000, "2 months"],
    [729 * 86_400_000, "24 months"],
    [730 * 86_400_000, "2 years"],
    [1000 * 86_400_000, "2 years"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `humanDuration(${ms})`);
});

test("timeAgo appends ago and accepts dates or milliseconds", () => {
  const now = Date.UTC(2024, 0, 10);
  assert.equal(timeAgo(new Date(now - 3 * 86_400_000), new Date(now)), "3 days ago");
  assert.equal(timeAgo(now - 90_000, now), "About a minute ago");
});

test("ramInBytes and fromHumanSize parse like RAMInBytes and FromHumanSize", () => {
  const ok: Array<[string, number, number]> = [
    ["512m", 536870912, 512000000],
    ["1g", 1073741824, 1000000000],
    ["2.5GB", 2684354560, 2500000000],
    ["100", 100, 100],
    ["1.5 GiB", 1610612736, 1500000000],
    ["10k", 10240, 10000],
    ["10KB", 10240, 10000],
    ["10KiB", 10240, 10000],
    ["1b", 1, 1],
    ["1B", 1, 1],
    ["1e3", 1000, 1000],
    ["0.5k", 512, 500],
    ["1 ", 1, 1],
    ["5 mb", 5242880, 5000000],
    ["1p", 1125899906842624, 1000000000000000],
    ["1_0", 10, 10],
  ];
  for (const [s, ram, human] of ok) {
    assert.equal(ramInBytes(s), ram, `ramInBytes(${JSON.stringify(s)})`);
    assert.equal(fromHumanSize(s), human, `fromHumanSize(${JSON.stringify(s)})`);
  }
  const bad: Array<[string, string]> = [
    ["", "invalid size: ''"],
    ["abc", "invalid size: 'abc'"],
    ["1x", "invalid suffix: 'x'"],
    ["1bb", "invalid suffix: 'bb'"],
    ["1kbb", "invalid suffix: 'kbb'"],
    ["-1", "invalid size: '-1'"],
    [" 1", 'strconv.ParseFloat: parsing "": invalid syntax'],
    ["1.2.3", 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'],
    ["1mi", "invalid suffix: 'mi'"],
  ];
  for (const [s, msg] of bad) {
    for (const parse of [ramInBytes, fromHumanSize]) {
      assert.throws(
        () => parse(s),
        (err: unknown) => isBerthError(err, "InvalidArgument") && err.message === msg,
        `${parse.name}(${JSON.stringify(s)})`,
      );
    }
  }
});
