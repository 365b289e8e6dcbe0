import assert from "node:assert/strict";
import { test } from "node:test";
import { collect } from "../base/async.js";
import { credentialsOf, humanSize, progressBar, progressStream } from "./transfer.js";

test("sizes and bars read as Docker's daemon writes them", () => {
  assert.equal(humanSize(512), "512B");
  assert.equal(humanSize(49152), "49.15kB");
  assert.equal(humanSize(4335400), "4.335MB");
  assert.equal(humanSize(1_000_000), "1MB");
  assert.equal(
    progressBar(1378626, 4335400),
    "[===============>                                   ]  1.379MB/4.335MB",
  );
  assert.equal(
    progressBar(49152, 4335400),
    "[>                                                  ]  49.15kB/4.335MB",
  );
  assert.equal(progressBar(0, 0), "");
});

test("a progress stream ends with the work, or with an error event", async () => {
  const ok = await collect(
    progressStream(async (q) => {
      q.push({ status: "a" });
      q.push({ status: "b" });
    }),
  );
  assert.deepEqual(ok, [{ status: "a" }, { status: "b" }]);
  const failed = await collect(
    progressStream(async (q) => {
      q.push({ status: "a" });
      throw new Error("boom");
    }),
  );
  assert.deepEqual(failed, [{ status: "a" }, { error: "boom", errorDetail: { message: "boom" } }]);
});

test("AuthConfig becomes credentials; empty means anonymous", () => {
  assert.equal(credentialsOf(undefined), undefined);
  assert.equal(credentialsOf({ serveraddress: "x" }), undefined);
  assert.deepEqual(credentialsOf({ username: "u", password: "p" }), { username: "u", password: "p" });
  assert.deepEqual(credentialsOf({ identitytoken: "t" }), { identityToken: "t" });
});
