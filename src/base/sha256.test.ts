import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { sha256Hex } from "./sha256.js";

describe("sha256Hex", () => {
  test("FIPS 180-4's examples", () => {
    assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(
      sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  test("agrees with node:crypto at every length around the block boundaries, and on UTF-8", () => {
    for (let n = 0; n < 200; n++) {
      const s = "/var/lib/berth-".repeat(20).slice(0, n);
      assert.equal(sha256Hex(s), createHash("sha256").update(s).digest("hex"), `length ${n}`);
    }
    const unicode = "/tmp/störe/\u{1f433}/\u00e9";
    assert.equal(sha256Hex(unicode), createHash("sha256").update(unicode).digest("hex"));
  });
});
