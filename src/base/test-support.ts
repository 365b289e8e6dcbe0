/**
 * Helpers shared by the unit tests (a test-only module: the architecture test lets only test files
 * import a `test-support.ts`, and lets it use node:assert). Owns the assertions and generators
 * more than one test file needs; never code that production paths run.
 */
import assert from "node:assert/strict";
import { isBerthError } from "./errors.js";

/**
 * Asserts that `fn` throws an InvalidArgument error; with `message`, one whose text is that string
 * exactly or matches that pattern.
 */
export function assertInvalid(fn: () => unknown, message?: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, "InvalidArgument"), `expected InvalidArgument, got ${String(err)}`);
    if (typeof message === "string") assert.equal(err.message, message);
    else if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

/** A seeded pseudo-random source in [0, 1) (mulberry32), so that a fuzz test's failure repeats. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
