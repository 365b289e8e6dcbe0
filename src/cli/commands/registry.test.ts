import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { ProgressDisplay } from "./registry.js";

function render(terminal: boolean, events: Parameters<ProgressDisplay["show"]>[0][]): string {
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const d = new ProgressDisplay(out, terminal);
  for (const e of events) d.show(e);
  return text;
}

const events = [
  { status: "Pulling from library/busybox", id: "latest" },
  { status: "Pulling fs layer", progressDetail: {}, id: "aaa" },
  { status: "Pulling fs layer", progressDetail: {}, id: "bbb" },
  { status: "Downloading", progressDetail: { current: 1, total: 2 }, progress: "[=>  ] 1B/2B", id: "aaa" },
  { status: "Pull complete", progressDetail: {}, id: "aaa" },
  { status: "Digest: sha256:x" },
];

test("without a terminal, lines without a progress bar are printed, bars are dropped", () => {
  assert.equal(
    render(false, events),
    "latest: Pulling from library/busybox\naaa: Pulling fs layer\nbbb: Pulling fs layer\naaa: Pull complete\nDigest: sha256:x\n",
  );
});

test("on a terminal, each layer owns a line rewritten in place", () => {
  const out = render(true, events);
  // aaa is 2 lines up when bbb exists: up 2, clear, write, down 2.
  assert.ok(out.includes("\x1b[2A\x1b[2K\raaa: Downloading [=>  ] 1B/2B\r\x1b[2B"), JSON.stringify(out));
  assert.ok(out.includes("\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B"), JSON.stringify(out));
  assert.ok(out.endsWith("Digest: sha256:x\n"));
});
