import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapLimit, sleep, waitFor } from "./async.js";

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

describe("waitFor", () => {
  it("resolves with the first answer that is neither undefined nor false", async () => {
    let n = 0;
    assert.equal(
      await waitFor("the third poll", () => (++n >= 3 ? `poll ${n}` : undefined), 5_000, 1),
      "poll 3",
    );
    assert.equal(await waitFor("true", async () => true), true);
  });

  it("rejects naming what it waited for when the time is up", async () => {
    await assert.rejects(
      waitFor("nothing", () => false, 20, 5),
      { message: "timed out waiting for nothing" },
    );
  });
});
