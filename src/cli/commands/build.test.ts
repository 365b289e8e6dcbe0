import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { PlainProgress } from "./build.js";

function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString("utf8") };
}

test("plain progress as BuildKit prints it: steps, timed RUN output, CACHED, DONE, ERROR", () => {
  const s = sink();
  let now = 1000;
  const p = new PlainProgress(s.out, () => now);
  p.event({
    kind: "vertex",
    id: 1,
    name: "[internal] load build definition from Dockerfile",
    status: "started",
  });
  p.event({ kind: "log", id: 1, stream: 1, data: Buffer.from("transferring dockerfile: 12B done\n") });
  p.event({
    kind: "vertex",
    id: 1,
    name: "[internal] load build definition from Dockerfile",
    status: "done",
    durationMs: 20,
  });
  p.event({ kind: "vertex", id: 2, name: "[2/3] COPY . .", status: "started" });
  p.event({ kind: "vertex", id: 2, name: "[2/3] COPY . .", status: "cached" });
  p.event({ kind: "vertex", id: 3, name: "[3/3] RUN exit 3", status: "started" });
  now = 1250;
  p.event({ kind: "log", id: 3, stream: 2, data: Buffer.from("oops") });
  p.event({
    kind: "vertex",
    id: 3,
    name: "[3/3] RUN exit 3",
    status: "error",
    durationMs: 300,
    error: 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
  });
  p.end();
  assert.equal(
    s.text(),
    [
      "#1 [internal] load build definition from Dockerfile",
      "#1 transferring dockerfile: 12B done",
      "#1 DONE 0.0s",
      "",
      "#2 [2/3] COPY . .",
      "#2 CACHED",
      "",
      "#3 [3/3] RUN exit 3",
      "#3 0.250 oops",
      '#3 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
      "",
      "",
    ].join("\n"),
  );
  assert.equal(p.failure(), "------\n > [3/3] RUN exit 3:\noops\n------\n");
});
