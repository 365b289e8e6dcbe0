import assert from "node:assert/strict";
import { test } from "node:test";
import { DetachWatcher, parseDetachKeys } from "./hijack.js";

test("detach keys: Docker's notation, default Ctrl-P Ctrl-Q", () => {
  assert.deepEqual(parseDetachKeys(undefined), [16, 17]);
  assert.deepEqual(parseDetachKeys("ctrl-a,x"), [1, 120]);
  assert.deepEqual(parseDetachKeys("ctrl-@,ctrl-[,ctrl-_"), [0, 27, 31]);
  assert.throws(() => parseDetachKeys("ctrl-1"), /Invalid escape keys \(ctrl-1\) provided/);
  assert.throws(() => parseDetachKeys("shift-a"), /Invalid escape keys/);
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
