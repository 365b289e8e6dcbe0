import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { sha256Digest } from "../oci/digest.js";
import { verifyingStream } from "./verify.js";

async function drain(data: Buffer, digest = sha256Digest(data), size = data.byteLength): Promise<number> {
  let n = 0;
  await pipeline(Readable.from([data]), verifyingStream(digest, size), async (src) => {
    for await (const c of src) n += (c as Buffer).byteLength;
  });
  return n;
}

test("bytes matching the descriptor pass through", async () => {
  assert.equal(await drain(Buffer.from("hello")), 5);
});

test("a wrong digest, a short or a long stream fail the stream", async () => {
  const data = Buffer.from("hello");
  await assert.rejects(drain(data, sha256Digest("other")), /filesystem layer verification failed/);
  await assert.rejects(drain(data, sha256Digest(data), 6), /got 5 bytes, expected 6/);
  await assert.rejects(drain(data, sha256Digest(data), 4), /more than the 4 bytes/);
});
