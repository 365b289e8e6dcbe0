import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapLimit, sleep } from "./async.js";

describe("sleep", () => {
  it("rejects with the signal's reason when aborted", async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort(new Error("stopped"));
    await assert.rejects(p, /stopped/);
  });

  it("ends early without an error when asked to resolve on abort", async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal, { resolveOnAbort: true });
    ac.abort();
    assert.equal(await p, undefined);
  });

  it("an already aborted signal ends the wait at once, either way", async () => {
    const signal = AbortSignal.abort(new Error("gone"));
    await assert.rejects(sleep(60_000, signal), /gone/);
    assert.equal(await sleep(60_000, signal, { resolveOnAbort: true }), undefined);
  });
});

describe("mapLimit", () => {
  it("keeps result order and never runs more than the limit at once", async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(n);
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
  });
});
