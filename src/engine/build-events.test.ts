import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { BUILD_EVENT_ID, decodeBuildEvent, encodeBuildEvent } from "./build-events.js";
import type { BuildEvent } from "./types.js";

test("every kind of build event survives the wire as JSON", () => {
  const events: BuildEvent[] = [
    { kind: "vertex", id: 4, name: "[slow 2/2] RUN sleep 30", status: "started" },
    { kind: "log", id: 4, stream: 2, data: Buffer.from("partial line\u00e9\n\u0000") },
    { kind: "vertex", id: 4, name: "[slow 2/2] RUN sleep 30", status: "canceled" },
    {
      kind: "vertex",
      id: 5,
      name: "[bad 2/2] RUN exit 7",
      status: "error",
      durationMs: 12,
      error: "exit code: 7",
    },
    { kind: "vertex", id: 6, name: "[2/2] COPY . .", status: "done", durationMs: 0 },
    { kind: "result", imageId: `sha256:${"a".repeat(64)}`, tags: ["app:1", "app:latest"] },
  ];
  for (const e of events) {
    const wire: unknown = JSON.parse(JSON.stringify(encodeBuildEvent(e)));
    const back = decodeBuildEvent(wire);
    if (e.kind === "log" && back?.kind === "log") {
      assert.deepEqual(Buffer.from(back.data), Buffer.from(e.data));
      assert.deepEqual({ ...back, data: null }, { ...e, data: null });
    } else assert.deepEqual(back, e);
  }
});

test("a classic builder line is not an event; a malformed event is an error of a kind", () => {
  assert.equal(decodeBuildEvent({ stream: "Step 1/2 : FROM busybox\n" }), undefined);
  assert.equal(decodeBuildEvent({ aux: { ID: "sha256:x" } }), undefined);
  assert.equal(decodeBuildEvent("text"), undefined);
  for (const aux of [
    null,
    { kind: "vertex", id: "4", name: "x", status: "done" },
    { kind: "vertex", id: 4, name: "x", status: "finished" },
    { kind: "log", id: 4, stream: 3, data: "" },
    { kind: "result", imageId: "sha256:x", tags: [1] },
    { kind: "other" },
  ]) {
    assert.throws(
      () => decodeBuildEvent({ id: BUILD_EVENT_ID, aux }),
      (err) => isBerthError(err, "Unavailable"),
    );
  }
});
