import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { explainMiss, parseStepInputs, type StepInputs } from "./cache-explain.js";

const prev: StepInputs = {
  key: "k1",
  parentKey: "p1",
  instruction: "COPY a b /app/ # buildkit",
  base: "docker.io/library/busybox:latest@sha256:aa",
  args: { V: "1" },
  env: { PATH: "/bin" },
  files: { a: "d1", b: "d2" },
};
const ctx = { noCache: false, ranBefore: undefined };

describe("explainMiss", () => {
  test("nothing to compare with: no explanation", () => {
    assert.equal(explainMiss(undefined, { ...prev, key: "k2" }, ctx), undefined);
  });
  test("--no-cache comes first", () => {
    assert.equal(
      explainMiss(prev, { ...prev, key: "k2", files: { a: "x" } }, { ...ctx, noCache: true }),
      "--no-cache: the build cache was not used",
    );
  });
  test("the same key: the cache record went away", () => {
    assert.match(explainMiss(prev, prev, ctx) ?? "", /builder prune/);
  });
  test("the base image", () => {
    assert.equal(
      explainMiss(prev, { ...prev, key: "k2", base: "busybox@sha256:bb" }, ctx),
      "base changed: docker.io/library/busybox:latest@sha256:aa → busybox@sha256:bb",
    );
  });
  test("a build argument, then an environment value (set, changed, unset)", () => {
    assert.equal(
      explainMiss(prev, { ...prev, key: "k2", args: { V: "2", W: "x" } }, ctx),
      'build argument V changed: "1" → "2" (and W)',
    );
    assert.equal(
      explainMiss(prev, { ...prev, key: "k2", env: {} }, ctx),
      'environment value PATH changed: "/bin" → unset',
    );
  });
  test("copied files by path: changed, added, removed, at most three named", () => {
    assert.equal(
      explainMiss(prev, { ...prev, key: "k2", files: { a: "d9", c: "d3" } }, ctx),
      "file changed: a; file added: c; file removed: b",
    );
    const many = { ...prev, files: { a: "1", b: "2", c: "3", d: "4", e: "5" } };
    assert.equal(
      explainMiss(many, { ...many, key: "k2", files: { a: "x", b: "x", c: "x", d: "x", e: "5" } }, ctx),
      "files changed: a, b, c and 1 more",
    );
  });
  test("the instruction, then the parent", () => {
    assert.equal(
      explainMiss(prev, { ...prev, key: "k2", instruction: "COPY a /app/ # buildkit" }, ctx),
      "instruction changed, was: COPY a b /app/ # buildkit",
    );
    assert.equal(
      explainMiss(prev, { ...prev, key: "k2", parentKey: "p2" }, { ...ctx, ranBefore: "[2/3] RUN x" }),
      "parent changed: [2/3] RUN x ran again",
    );
    assert.match(
      explainMiss(prev, { ...prev, key: "k2", parentKey: "p2" }, ctx) ?? "",
      /earlier step or stage/,
    );
  });
});

describe("parseStepInputs", () => {
  test("round trip", () => assert.deepEqual(parseStepInputs(JSON.stringify(prev)), prev));
  test("anything else is no record", () => {
    assert.equal(parseStepInputs("not json"), undefined);
    assert.equal(parseStepInputs("[]"), undefined);
    assert.equal(parseStepInputs(JSON.stringify({ ...prev, files: { a: 1 } })), undefined);
    assert.equal(parseStepInputs(JSON.stringify({ ...prev, key: undefined })), undefined);
  });
});
