import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "../flags.js";
import { parseUiAddress } from "./serve.js";

describe("serve --ui-addr", () => {
  test("HOST:PORT, :PORT and PORT on loopback", () => {
    assert.deepEqual(parseUiAddress("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
    assert.deepEqual(parseUiAddress(":0"), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseUiAddress("9000"), { host: "127.0.0.1", port: 9000 });
    assert.deepEqual(parseUiAddress("[::1]:9000"), { host: "::1", port: 9000 });
    assert.deepEqual(parseUiAddress("localhost:9000"), { host: "localhost", port: 9000 });
  });

  test("anything off loopback, or not an address, is refused", () => {
    assert.throws(() => parseUiAddress("0.0.0.0:8080"), UsageError);
    assert.throws(() => parseUiAddress("192.168.1.2:8080"), UsageError);
    assert.throws(() => parseUiAddress("127.0.0.1:70000"), UsageError);
    assert.throws(() => parseUiAddress("127.0.0.1"), UsageError);
    assert.throws(() => parseUiAddress("http://127.0.0.1:80"), UsageError);
  });
});
