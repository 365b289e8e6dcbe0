import assert from "node:assert/strict";
import { test } from "node:test";
import { collect } from "../base/async.js";
import { notFound } from "../base/errors.js";
import type { ProgressEvent } from "../engine/types.js";
import { credentialsOf, progressBar, progressStream } from "./transfer.js";

test("bars read as Docker's daemon writes them", () => {
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

test("a progress stream ends with the work, or throws its error after the events before it", async () => {
  const ok = await collect(
    progressStream(async (q) => {
      q.push({ status: "a" });
      q.push({ status: "b" });
    }),
  );
  assert.deepEqual(ok, [{ status: "a" }, { status: "b" }]);
  const boom = notFound("boom");
  const seen: ProgressEvent[] = [];
  await assert.rejects(async () => {
    for await (const e of progressStream(async (q) => {
      q.push({ status: "a" });
      throw boom;
    }))
      seen.push(e);
  }, boom);
  assert.deepEqual(seen, [{ status: "a" }]);
});

test("AuthConfig becomes credentials; empty means anonymous", () => {
  assert.equal(credentialsOf(undefined), undefined);
  assert.equal(credentialsOf({ serveraddress: "x" }), undefined);
  assert.deepEqual(credentialsOf({ username: "u", password: "p" }), { username: "u", password: "p" });
  assert.deepEqual(credentialsOf({ identitytoken: "t" }), { identityToken: "t" });
});
