import assert from "node:assert/strict";
import { test } from "node:test";
import { pack } from "tar-stream";
import { readTar } from "../oci/tar-reader.js";
import { Demuxer, jsonLines, splitTimestamp, streamError, withoutTarEntries } from "./streams.js";
import { parseHost } from "./transport.js";

function frame(stream: number, text: string): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([h, Buffer.from(text)]);
}

test("the demuxer splits frames across any chunking", () => {
  const bytes = Buffer.concat([frame(1, "out\n"), frame(2, "err\n"), frame(1, "")]);
  for (const step of [1, 3, 7, bytes.length]) {
    const got: Array<[number, string]> = [];
    const d = new Demuxer((s, data) => got.push([s, data.toString()]));
    for (let i = 0; i < bytes.length; i += step) d.push(bytes.subarray(i, i + step));
    assert.deepEqual(got, [
      [1, "out\n"],
      [2, "err\n"],
      [1, ""],
    ]);
  }
});

test("JSON lines are parsed across chunks; an error line becomes an error of the caller's kind", async () => {
  async function* chunks() {
    yield Buffer.from('{"status":"a"}\r\n{"sta');
    yield Buffer.from('tus":"b"}\n\n{"error":"boom","errorDetail":{"message":"boom!"}}');
  }
  const values: unknown[] = [];
  for await (const v of jsonLines(chunks())) values.push(v);
  assert.deepEqual(values.slice(0, 2), [{ status: "a" }, { status: "b" }]);
  const err = streamError(values[2], "FailedPrecondition");
  assert.equal(err?.kind, "FailedPrecondition");
  assert.equal(err?.message, "boom!");
  assert.equal(streamError({ status: "x" }, "Internal"), undefined);
});

test("a log record's timestamp is split from its data", () => {
  const r = splitTimestamp(Buffer.from("2024-01-02T03:04:05.000000001Z hello\n"));
  assert.equal(r.time, "2024-01-02T03:04:05.000000001Z");
  assert.equal(r.data.toString(), "hello\n");
  const none = splitTimestamp(Buffer.from("no time here\n"));
  assert.equal(none.time, "");
  assert.equal(none.data.toString(), "no time here\n");
});

test("tar entries are dropped by name and the rest stays a valid tar", async () => {
  const p = pack();
  p.entry({ name: "manifest.json" }, "[]");
  p.entry({ name: "blobs", type: "directory" });
  p.entry({ name: "blobs/a" }, Buffer.alloc(1000, 7));
  p.entry({ name: "repositories" }, "{}");
  p.entry({ name: "index.json" }, "{}");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) if (Buffer.isBuffer(c)) chunks.push(c);
  const whole = Buffer.concat(chunks);
  async function* bytes() {
    for (let i = 0; i < whole.length; i += 300) yield whole.subarray(i, i + 300);
  }
  const out: Buffer[] = [];
  for await (const c of withoutTarEntries(bytes(), new Set(["manifest.json", "repositories"])))
    out.push(Buffer.from(c));
  const names: string[] = [];
  async function* again() {
    yield Buffer.concat(out);
  }
  for await (const e of readTar(again())) {
    names.push(e.header.name);
    for await (const _ of e) {
      // drain
    }
  }
  assert.deepEqual(names, ["blobs", "blobs/a", "index.json"]);
});

test("hosts are parsed as the docker CLI reads -H", () => {
  assert.deepEqual(parseHost("unix:///run/berth.sock", false), { kind: "unix", path: "/run/berth.sock" });
  assert.deepEqual(parseHost("tcp://127.0.0.1:2375", false), { kind: "tcp", host: "127.0.0.1", port: 2375 });
  assert.deepEqual(parseHost("tcp://localhost", true), { kind: "tcp", host: "localhost", port: 2376 });
  assert.deepEqual(parseHost("tcp://[::1]:8080", false), { kind: "tcp", host: "::1", port: 8080 });
  assert.throws(() => parseHost("ssh://me@box", false), /scheme is not supported/);
  assert.throws(() => parseHost("unix://relative", false), /absolute/);
  assert.throws(() => parseHost("/no/scheme", false), /invalid host/);
});
