import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { isBerthError } from "../base/errors.js";
import { decompressStream, detectCompression, gzipStream } from "./compression.js";
import { readAll } from "./test-support.js";

test("detectCompression recognises gzip, zstd, bzip2, xz and plain", () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0])), "gzip");
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), "zstd");
  assert.equal(detectCompression(Buffer.from("BZh91AY")), "bzip2");
  assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), "xz");
  assert.equal(detectCompression(Buffer.from("etc/passwd")), "none");
  assert.equal(detectCompression(Buffer.from([0x1f])), "none");
  assert.equal(detectCompression(Buffer.alloc(0)), "none");
});

test("decompressStream passes plain bytes through, split into tiny chunks", async () => {
  const data = Buffer.from("plain tar bytes, not compressed at all");
  const chunks = [...data].map((b) => Buffer.from([b]));
  const { stream, compression } = await decompressStream(Readable.from(chunks));
  assert.equal(compression, "none");
  assert.deepEqual(await readAll(stream), data);
});

test("decompressStream handles input shorter than the magic", async () => {
  const { stream, compression } = await decompressStream(Readable.from([Buffer.from("ab")]));
  assert.equal(compression, "none");
  assert.equal((await readAll(stream)).toString(), "ab");
});

test("decompressStream gunzips and gzipStream round-trips", async () => {
  const data = Buffer.alloc(200_000, "layer ");
  const gz = await readAll(gzipStream(Readable.from([data])));
  assert.equal(detectCompression(gz), "gzip");
  const { stream, compression } = await decompressStream(Readable.from([gz]));
  assert.equal(compression, "gzip");
  assert.deepEqual(await readAll(stream), data);
});

test("decompressStream rejects zstd, bzip2 and xz clearly", async () => {
  await assert.rejects(
    decompressStream(Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])])),
    (err: unknown) =>
      isBerthError(err, "InvalidArgument") &&
      /zstd-compressed layers are not supported yet/.test(err.message),
  );
  await assert.rejects(decompressStream(Readable.from([Buffer.from("BZh91AY&SY")])), /bzip2/);
  await assert.rejects(
    decompressStream(Readable.from([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 1])])),
    /xz/,
  );
});

test("a corrupt gzip body makes the stream error", async () => {
  const gz = gzipSync(Buffer.alloc(100_000, "x"));
  gz.fill(0x55, 20, 60);
  const { stream } = await decompressStream(Readable.from([gz]));
  await assert.rejects(readAll(stream));
});
