import assert from "node:assert/strict";
import { test } from "node:test";
import { DetachWatcher, detachKeysOrDefault } from "./hijack.js";

test("detach keys: default Ctrl-P Ctrl-Q; bad notation is a 400 worded as the daemon words it", () => {
  assert.deepEqual(detachKeysOrDefault(undefined, "detach"), [16, 17]);
  assert.deepEqual(detachKeysOrDefault("", "escape"), [16, 17]);
  assert.deepEqual(detachKeysOrDefault("ctrl-a,x", "detach"), [1, 120]);
  assert.throws(() => detachKeysOrDefault("ctrl-1", "escape"), {
    message: "Invalid escape keys (ctrl-1) provided",
  });
  assert.throws(() => detachKeysOrDefault("shift-a", "detach"), {
    message: "Invalid detach keys (shift-a) provided",
  });
});

test("the watcher passes other input through, holds a partial sequence, and detaches on the whole one", () => {
  const w = new DetachWatcher([16, 17]);
  assert.deepEqual(w.feed(Buffer.from("ab")), { pass: Buffer.from("ab"), detach: false });
  // A prefix is held back until the next byte tells.
  assert.deepEqual(w.feed(Buffer.from([99, 16])), { pass: Buffer.from([99]), detach: false });
  assert.deepEqual(w.feed(Buffer.from([100])), { pass: Buffer.from([16, 100]), detach: false });
  assert.deepEqual(w.feed(Buffer.from([16, 16, 17])), { pass: Buffer.from([16]), detach: true });
  // No keys (stdin that is not a terminal): every byte is data.
  const none = new DetachWatcher([]);
  assert.deepEqual(none.feed(Buffer.from([16, 17])), { pass: Buffer.from([16, 17]), detach: false });
});
