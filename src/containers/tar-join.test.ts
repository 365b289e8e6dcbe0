import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import * as tar from "tar-stream";
import { entryPath, joinTar, prefixed, type TarHeader, withOwner } from "./tar-join.js";

function header(name: string, type: TarHeader["type"], size = 0): TarHeader {
  return {
    name,
    type,
    size,
    mode: 0o644,
    mtime: new Date(0),
    linkname: "",
    uid: 5,
    gid: 6,
    uname: "u",
    gname: "g",
    devmajor: 0,
    devminor: 0,
  };
}

async function entries(stream: Readable): Promise<Array<{ name: string; uid: number; body: string }>> {
  const ex = tar.extract();
  stream.on("error", (err) => ex.destroy(err));
  stream.pipe(ex);
  const out: Array<{ name: string; uid: number; body: string }> = [];
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ name: e.header.name, uid: e.header.uid, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

describe("tar-join", () => {
  it("renames entries under a prefix and keeps directory slashes", () => {
    assert.equal(prefixed(header("./a/b", "file"), "hd").name, "hd/a/b");
    assert.equal(prefixed(header("sub/", "directory"), "hd").name, "hd/sub/");
    assert.equal(prefixed(header("x", "file"), "").name, "x");
    assert.equal(entryPath(header("/a/b/", "directory")), "a/b");
  });
  it("withOwner drops PAX ownership records", () => {
    const h = withOwner({ ...header("f", "file"), pax: { uid: "99999999", path: "f" } }, 0, 0);
    assert.equal(h.uid, 0);
    assert.deepEqual(h.pax, { path: "f" });
  });
  it("joins single entries and rewritten tars, dropping what the map leaves out", async () => {
    const inner = tar.pack();
    inner.entry(header("keep", "file", 2), "ok");
    inner.entry(header("drop", "file", 1), "x");
    inner.finalize();
    const out = joinTar(async (j) => {
      await j.addEntry(header("root/", "directory"));
      await j.addTar(Readable.from(inner, { objectMode: false }), (h) =>
        h.name === "drop" ? undefined : withOwner(prefixed(h, "root"), 0, 0),
      );
    });
    const got = await entries(out);
    assert.deepEqual(got, [
      { name: "root/", uid: 5, body: "" },
      { name: "root/keep", uid: 0, body: "ok" },
    ]);
  });
  it("a failing fill makes the stream fail", async () => {
    const out = joinTar(async () => {
      throw new Error("boom");
    });
    await assert.rejects(entries(out), /boom/);
  });
});
