/**
 * Image filters against Docker's rules: api/types/filters (key checks, bool values), the
 * daemon's label matching, Go's path.Match for `reference=`, and timetypes.GetTimestamp with
 * time.ParseDuration for `until=`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertInvalid } from "../base/test-support.js";
import {
  boolFilter,
  checkFilterKeys,
  filterValues,
  matchLabels,
  parseGoDuration,
  parseTimestamp,
  pathMatch,
} from "./filters.js";

describe("checkFilterKeys and filterValues", () => {
  test("accepts allowed keys, no filters and an empty map", () => {
    checkFilterKeys({ dangling: ["true"], label: ["a"] }, ["dangling", "label", "reference"]);
    checkFilterKeys(undefined, ["dangling"]);
    checkFilterKeys({}, []);
  });

  test("refuses the first unknown key with Docker's wording", () => {
    assertInvalid(
      () => checkFilterKeys({ dangling: ["true"], foo: ["1"] }, ["dangling"]),
      "invalid filter 'foo'",
    );
    assertInvalid(() => checkFilterKeys({ Dangling: ["true"] }, ["dangling"]), "invalid filter 'Dangling'");
  });

  test("filterValues returns the values or an empty list", () => {
    assert.deepEqual(filterValues({ label: ["a", "b"] }, "label"), ["a", "b"]);
    assert.deepEqual(filterValues({ label: ["a"] }, "dangling"), []);
    assert.deepEqual(filterValues(undefined, "label"), []);
  });
});

describe("boolFilter", () => {
  test("undefined when the key is absent", () => {
    assert.equal(boolFilter(undefined, "dangling"), undefined);
    assert.equal(boolFilter({ label: ["x"] }, "dangling"), undefined);
    assert.equal(boolFilter({ dangling: [] }, "dangling"), undefined);
  });

  test("true/1 and false/0; repeating the same value is fine", () => {
    assert.equal(boolFilter({ dangling: ["true"] }, "dangling"), true);
    assert.equal(boolFilter({ dangling: ["1"] }, "dangling"), true);
    assert.equal(boolFilter({ dangling: ["false"] }, "dangling"), false);
    assert.equal(boolFilter({ dangling: ["0"] }, "dangling"), false);
    assert.equal(boolFilter({ dangling: ["true", "1"] }, "dangling"), true);
  });

  test("other values and conflicting values are refused", () => {
    assertInvalid(() => boolFilter({ dangling: ["maybe"] }, "dangling"), "invalid filter 'dangling=maybe'");
    assertInvalid(() => boolFilter({ dangling: [""] }, "dangling"), "invalid filter 'dangling='");
    assertInvalid(() => boolFilter({ dangling: ["true", "false"] }, "dangling"));
    assertInvalid(() => boolFilter({ dangling: ["0", "1"] }, "dangling"));
  });
});

describe("matchLabels", () => {
  const labels = { app: "web", tier: "front", eq: "a=b", empty: "" };

  test("key alone matches presence, whatever the value (even empty)", () => {
    assert.equal(matchLabels(labels, ["app"]), true);
    assert.equal(matchLabels(labels, ["empty"]), true);
    assert.equal(matchLabels(labels, ["nope"]), false);
  });

  test("key=value matches the exact value; the value may contain '=' or be empty", () => {
    assert.equal(matchLabels(labels, ["app=web"]), true);
    assert.equal(matchLabels(labels, ["app=Web"]), false);
    assert.equal(matchLabels(labels, ["app=we"]), false);
    assert.equal(matchLabels(labels, ["eq=a=b"]), true);
    assert.equal(matchLabels(labels, ["empty="]), true);
    assert.equal(matchLabels(labels, ["app="]), false);
    assert.equal(matchLabels(labels, ["nope="]), false);
  });

  test("several wanted labels must all match; none wanted matches everything", () => {
    assert.equal(matchLabels(labels, ["app=web", "tier"]), true);
    assert.equal(matchLabels(labels, ["app=web", "tier=back"]), false);
    assert.equal(matchLabels(labels, []), true);
    assert.equal(matchLabels({}, ["app"]), false);
  });

  test("negated (label!=): true only when none of the wanted labels match", () => {
    assert.equal(matchLabels(labels, ["nope"], true), true);
    assert.equal(matchLabels(labels, ["app"], true), false);
    assert.equal(matchLabels(labels, ["app=db"], true), true);
    assert.equal(matchLabels(labels, ["app=web"], true), false);
    assert.equal(matchLabels(labels, ["nope", "tier"], true), false);
  });

  test("inherited object properties are not labels", {}, () => {
    assert.equal(matchLabels({}, ["toString"]), false);
    assert.equal(matchLabels({ app: "web" }, ["constructor"]), false);
    assert.equal(matchLabels({}, ["hasOwnProperty"], true), true);
  });
});

describe("pathMatch (Go path.Match)", () => {
  test("literal names, with regex-special characters taken literally", () => {
    assert.equal(pathMatch("busybox", "busybox"), true);
    assert.equal(pathMatch("busybox", "busybox2"), false);
    assert.equal(pathMatch("busybox", "my/busybox"), false);
    assert.equal(pathMatch("a.b", "a.b"), true);
    assert.equal(pathMatch("a.b", "axb"), false);
    assert.equal(pathMatch("a+b(c)", "a+b(c)"), true);
    assert.equal(pathMatch("a$", "a$"), true);
  });

  test("* matches any run of non-/ characters, including none", () => {
    assert.equal(pathMatch("busy*", "busybox"), true);
    assert.equal(pathMatch("busy*", "busy"), true);
    assert.equal(pathMatch("*", "busybox"), true);
    assert.equal(pathMatch("*", "library/busybox"), false);
    assert.equal(pathMatch("library/*", "library/busybox"), true);
    assert.equal(pathMatch("library/*", "library/a/b"), false);
    assert.equal(pathMatch("*/*", "library/busybox"), true);
    assert.equal(pathMatch("*box", "busybox"), true);
    assert.equal(pathMatch("docker.io/*/busybox", "docker.io/library/busybox"), true);
  });

  test("? matches exactly one non-/ character", () => {
    assert.equal(pathMatch("busyb?x", "busybox"), true);
    assert.equal(pathMatch("busyb?x", "busybx"), false);
    assert.equal(pathMatch("a?b", "a/b"), false);
  });

  test("character classes: sets, ranges and ^ negation", () => {
    assert.equal(pathMatch("[abc]x", "bx"), true);
    assert.equal(pathMatch("[abc]x", "dx"), false);
    assert.equal(pathMatch("v[0-9]", "v7"), true);
    assert.equal(pathMatch("v[0-9]", "vx"), false);
    assert.equal(pathMatch("v[^0-9]", "vx"), true);
    assert.equal(pathMatch("v[^0-9]", "v7"), false);
  });

  test("backslash escapes a special character", () => {
    assert.equal(pathMatch("a\\*b", "a*b"), true);
    assert.equal(pathMatch("a\\*b", "axb"), false);
    assert.equal(pathMatch("a\\?", "a?"), true);
    assert.equal(pathMatch("a\\[b", "a[b"), true);
  });

  test("an unclosed class is a bad pattern", () => {
    assertInvalid(() => pathMatch("a[bc", "ab"));
  });

  test("a class may contain an escaped ']'", {}, () => {
    assert.equal(pathMatch("[\\]a]", "]"), true);
    assert.equal(pathMatch("[\\]a]", "a"), true);
    assert.equal(pathMatch("[\\]a]", "b"), false);
  });
});

describe("parseGoDuration (time.ParseDuration)", () => {
  test("units, combinations and fractions, in milliseconds", () => {
    assert.equal(parseGoDuration("10m"), 600_000);
    assert.equal(parseGoDuration("1h30m"), 5_400_000);
    assert.equal(parseGoDuration("1.5h"), 5_400_000);
    assert.equal(parseGoDuration("2h45m30.5s"), 9_930_500);
    assert.equal(parseGoDuration("300ms"), 300);
    assert.equal(parseGoDuration("24h"), 86_400_000);
    assert.equal(parseGoDuration("1500us"), 1.5);
    assert.equal(parseGoDuration("1500µs"), 1.5);
    assert.equal(parseGoDuration("2000000ns"), 2);
    assert.equal(parseGoDuration("-1h"), -3_600_000);
  });

  test("not durations: a bare number, unknown units, empty, spaces", () => {
    assert.equal(parseGoDuration("10"), undefined);
    assert.equal(parseGoDuration("1d"), undefined);
    assert.equal(parseGoDuration("1w"), undefined);
    assert.equal(parseGoDuration(""), undefined);
    assert.equal(parseGoDuration("1h 30m"), undefined);
    assert.equal(parseGoDuration("h"), undefined);
    assert.equal(parseGoDuration("1H"), undefined);
  });

  test("Go also accepts '0', a leading '+', and fractions without a leading or trailing digit", {}, () => {
    assert.equal(parseGoDuration("0"), 0);
    assert.equal(parseGoDuration("+5s"), 5000);
    assert.equal(parseGoDuration(".5s"), 500);
    assert.equal(parseGoDuration("1.s"), 1000);
  });
});

describe("parseTimestamp (until=)", () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0);

  test("Unix seconds, whole and fractional, in milliseconds", () => {
    assert.equal(parseTimestamp("1700000000", now), 1_700_000_000_000);
    assert.equal(parseTimestamp("1700000000.5", now), 1_700_000_000_500);
    assert.equal(parseTimestamp("1700000000.123456789", now), 1_700_000_000_123);
    assert.equal(parseTimestamp("0", now), 0);
  });

  test("RFC 3339 with Z or an offset, with and without fractional seconds", () => {
    assert.equal(parseTimestamp("2024-01-02T03:04:05Z", now), Date.UTC(2024, 0, 2, 3, 4, 5));
    assert.equal(parseTimestamp("2024-01-02T03:04:05+02:00", now), Date.UTC(2024, 0, 2, 1, 4, 5));
    assert.equal(parseTimestamp("2024-01-02T03:04:05.250Z", now), Date.UTC(2024, 0, 2, 3, 4, 5, 250));
  });

  test("Go durations count back from now; a negative one points ahead", () => {
    assert.equal(parseTimestamp("10m", now), now - 600_000);
    assert.equal(parseTimestamp("1h30m", now), now - 5_400_000);
    assert.equal(parseTimestamp("24h", now), now - 86_400_000);
    assert.equal(parseTimestamp("-1h", now), now + 3_600_000);
  });

  test("anything else is refused with Docker's wording", () => {
    assertInvalid(() => parseTimestamp("abc", now), `failed to parse value as time or duration: "abc"`);
    assertInvalid(() => parseTimestamp("", now));
    assertInvalid(() => parseTimestamp("10x", now));
  });
});
