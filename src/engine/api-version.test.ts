import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { API_VERSION, compareApiVersions, MIN_API_VERSION, negotiateApiVersion } from "./api-version.js";

test("versions compare by number, not by text", () => {
  assert.ok(compareApiVersions("1.9", "1.41") < 0);
  assert.ok(compareApiVersions("1.50", "1.5") > 0);
  assert.equal(compareApiVersions("1.41", "1.41.0"), 0);
});

test("the client takes the older of its version and the server's", () => {
  assert.equal(negotiateApiVersion("1.51", "unix:///s"), API_VERSION);
  assert.equal(negotiateApiVersion(API_VERSION, "unix:///s"), API_VERSION);
  assert.equal(negotiateApiVersion("1.45", "unix:///s"), "1.45");
  assert.equal(negotiateApiVersion(` ${MIN_API_VERSION} `, "unix:///s"), MIN_API_VERSION);
});

test("a server older than 1.41, or silent about its version, is refused with one line", () => {
  for (const v of ["1.40", "1.24", undefined, "", "one.two"]) {
    assert.throws(
      () => negotiateApiVersion(v, "tcp://127.0.0.1:2375"),
      (err) =>
        isBerthError(err, "Unavailable") &&
        /^the engine at tcp:\/\/127\.0\.0\.1:2375 speaks API version 1\.\d+: berth needs 1\.41 or later$/.test(
          err.message,
        ),
    );
  }
});
