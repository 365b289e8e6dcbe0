import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "./detach-keys.js";

test("detach keys in Docker's notation", () => {
  assert.deepEqual(parseDetachKeys("ctrl-p,ctrl-q"), [...DEFAULT_DETACH_KEYS]);
  assert.deepEqual(parseDetachKeys("ctrl-x,q"), [0x18, 0x71]);
  assert.deepEqual(parseDetachKeys("CTRL-A"), [1]);
  assert.deepEqual(parseDetachKeys("ctrl-a, x"), [1, 120]);
  assert.deepEqual(parseDetachKeys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_"), [0, 27, 28, 29, 30, 31]);
  assert.equal(parseDetachKeys("ctrl-1"), undefined);
  assert.equal(parseDetachKeys("shift-a"), undefined);
  assert.equal(parseDetachKeys("foo"), undefined);
  assert.equal(parseDetachKeys("a,,b"), undefined);
  assert.equal(parseDetachKeys(""), undefined);
});
