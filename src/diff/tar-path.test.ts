import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { classifyWhiteout, normalizeEntryName } from "./tar-path.js";

test("normalizeEntryName drops leading / and ./ and cleans inner dots", () => {
  assert.deepEqual(normalizeEntryName("./etc/passwd"), ["etc", "passwd"]);
  assert.deepEqual(normalizeEntryName("/etc//passwd"), ["etc", "passwd"]);
  assert.deepEqual(normalizeEntryName("usr/lib/"), ["usr", "lib"]);
  assert.deepEqual(normalizeEntryName("a/./b/../c"), ["a", "c"]);
  assert.deepEqual(normalizeEntryName("./"), []);
  assert.deepEqual(normalizeEntryName("."), []);
  assert.deepEqual(normalizeEntryName("/"), []);
});

test("normalizeEntryName rejects names that climb out", () => {
  for (const name of ["..", "../x", "/../victim/x", "a/../../x", "./..", "a/b/../../../c"]) {
    assert.throws(
      () => normalizeEntryName(name),
      (err: unknown) => isBerthError(err, "InvalidArgument") && /path escapes the layer/.test(err.message),
      name,
    );
  }
  assert.throws(() => normalizeEntryName("a\0b"), /NUL/);
});

test("classifyWhiteout", () => {
  assert.deepEqual(classifyWhiteout("passwd", "etc/passwd"), { kind: "none" });
  assert.deepEqual(classifyWhiteout(".wh..wh..opq", "a/.wh..wh..opq"), { kind: "opaque" });
  assert.deepEqual(classifyWhiteout(".wh..wh.plnk", ".wh..wh.plnk"), { kind: "meta" });
  assert.deepEqual(classifyWhiteout(".wh.foo", "a/.wh.foo"), { kind: "whiteout", target: "foo" });
  assert.deepEqual(classifyWhiteout(".wh..hidden", ".wh..hidden"), { kind: "whiteout", target: ".hidden" });
  for (const base of [".wh.", ".wh..", ".wh..."]) {
    assert.throws(() => classifyWhiteout(base, `dir/${base}`), /invalid whiteout name/, base);
  }
});
