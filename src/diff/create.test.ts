import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, chown, link, lstat, lutimes, mkdir, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { applyLayer } from "./apply.js";
import { gzipStream } from "./compression.js";
import { createLayer, createLayerWithDigest } from "./create.js";
import { mknod, setXattrs } from "./host-tools.js";
import { describeTree, listTar, readAll, streamOf, withTempDir } from "./test-support.js";

const T = 1_650_000_000;

/** A source tree with every kind of entry berth packs, all times fixed. */
async function populate(src: string): Promise<void> {
  await mkdir(join(src, "etc/app.d"), { recursive: true });
  await mkdir(join(src, "tmp"));
  await chmod(join(src, "tmp"), 0o1777);
  await mkdir(join(src, "srv"));
  await chmod(join(src, "srv"), 0o2775);
  await chown(join(src, "srv"), 33, 33);
  await writeFile(join(src, "etc/app.d/default.cfg"), "key=value\n");
  await writeFile(join(src, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  await mkdir(join(src, "bin"));
  await writeFile(join(src, "bin/su"), Buffer.alloc(300_000, 7));
  await chmod(join(src, "bin/su"), 0o4755);
  await writeFile(join(src, "bin/empty-mode"), "");
  await chmod(join(src, "bin/empty-mode"), 0o000);
  await link(join(src, "bin/su"), join(src, "bin/su-link"));
  await symlink("/etc/passwd", join(src, "bin/passwd-link"));
  await writeFile(join(src, "srv/owned"), "data");
  await chown(join(src, "srv/owned"), 1234, 5678);
  await mkdir(join(src, "dev"));
  await mknod(join(src, "dev/null"), "c", { major: 1, minor: 3 });
  await chmod(join(src, "dev/null"), 0o666);
  await mknod(join(src, "dev/fifo"), "p");
  await chmod(join(src, "dev/fifo"), 0o600);
  const long = `${"deep/".repeat(30)}file-${"é".repeat(10)}`;
  await mkdir(join(src, long, ".."), { recursive: true });
  await writeFile(join(src, long), "long name");
  await setXattrs([
    { path: join(src, "etc/passwd"), name: "user.label", value: Buffer.from("text") },
    { path: join(src, "etc"), name: "user.dirnote", value: Buffer.from("d") },
  ]);
  // Fix every time, deepest first (setting a child's time does not touch its parent's).
  const all = execFileSync("find", [src, "-depth", "-print0"]).toString("utf8").split("\0").filter(Boolean);
  for (const p of all) {
    const st = await lstat(p);
    if (st.isSymbolicLink()) await lutimes(p, T, T);
    else await utimes(p, T, T);
  }
}

test("createLayer → applyLayer round-trips every entry kind and the diffIDs agree", async () => {
  await withTempDir(async (tmp) => {
    const src = join(tmp, "src");
    const dst = join(tmp, "dst");
    await mkdir(src);
    await mkdir(dst);
    await populate(src);
    await utimes(src, T, T);

    const { stream, result } = createLayerWithDigest(src);
    const tarBytes = await readAll(stream);
    const created = await result;
    assert.equal(created.size, tarBytes.length);
    assert.equal(created.diffId, `sha256:${createHash("sha256").update(tarBytes).digest("hex")}`);

    const applied = await applyLayer(streamOf(tarBytes), dst);
    assert.equal(applied.diffId, created.diffId);
    assert.equal(applied.size, created.size);
    await utimes(dst, T, T);
    const [a, b] = [await describeTree(src), await describeTree(dst)];
    assert.deepEqual(b.slice(1), a.slice(1)); // the root itself has no entry
    assert.equal((await lstat(join(dst, "bin/su-link"))).ino, (await lstat(join(dst, "bin/su"))).ino);
  });
});

test("createLayer is deterministic, sorted, numeric-only and uses hardlink entries", async () => {
  await withTempDir(async (tmp) => {
    await populate(tmp);
    const one = await readAll(createLayer(tmp));
    const two = await readAll(createLayer(tmp));
    assert.deepEqual(one, two);
    const entries = await listTar(one);
    const names = entries.map((e) => e.header.name);
    assert.equal(names[0], "bin/");
    assert.ok(names.indexOf("etc/") < names.indexOf("etc/app.d/"));
    assert.ok(names.indexOf("etc/app.d/") < names.indexOf("etc/app.d/default.cfg"));
    for (const e of entries) {
      assert.equal(e.header.uname, "");
      assert.equal(e.header.gname, "");
    }
    const hl = entries.find((e) => e.header.name === "bin/su-link");
    assert.equal(hl?.header.type, "link");
    assert.equal(hl?.header.linkname, "bin/su");
    const owned = entries.find((e) => e.header.name === "srv/owned");
    assert.deepEqual([owned?.header.uid, owned?.header.gid], [1234, 5678]);
    assert.equal(entries.find((e) => e.header.name === "bin/empty-mode")?.header.mode, 0);
  });
});

test("overlay whiteouts and opaque dirs become OCI markers, and back", async () => {
  await withTempDir(async (tmp) => {
    const upper = join(tmp, "upper");
    await mkdir(join(upper, "etc"), { recursive: true });
    await mkdir(join(upper, "bin"));
    await writeFile(join(upper, "bin/tool"), "v2");
    await mknod(join(upper, "etc/my-app-config"), "c", { major: 0, minor: 0 });
    await mknod(join(upper, "gone"), "c", { major: 0, minor: 0 });
    await setXattrs([
      { path: join(upper, "bin"), name: "trusted.overlay.opaque", value: Buffer.from("y") },
      { path: join(upper, "bin"), name: "trusted.overlay.origin", value: Buffer.from([0, 1, 2]) },
    ]);
    const bytes = await readAll(createLayer(upper));
    const entries = await listTar(bytes);
    const names = entries.map((e) => e.header.name);
    assert.ok(names.includes(".wh.gone"));
    assert.ok(names.includes("etc/.wh.my-app-config"));
    assert.ok(names.includes("bin/.wh..wh..opq"));
    assert.ok(names.indexOf("bin/.wh..wh..opq") < names.indexOf("bin/tool"), "marker precedes the children");
    assert.ok(names.indexOf(".wh.gone") < names.indexOf("bin/"), "whiteouts precede sibling directories");
    for (const e of entries) {
      assert.notEqual(e.header.type, "character-device", e.header.name);
      const pax = JSON.stringify(e.header.pax ?? {});
      assert.ok(!pax.includes("trusted.overlay"), `${e.header.name} carries overlay xattrs`);
    }
    const wh = entries.find((e) => e.header.name === ".wh.gone");
    assert.equal(wh?.header.type, "file");
    assert.equal(wh?.header.size, 0);

    const dst = join(tmp, "dst");
    await mkdir(dst);
    await applyLayer(streamOf(bytes), dst);
    const gone = await lstat(join(dst, "gone"));
    assert.ok(gone.isCharacterDevice());
    assert.equal(gone.rdev, 0);
    assert.ok((await lstat(join(dst, "etc/my-app-config"))).isCharacterDevice());
    const lines = await describeTree(dst);
    const bin = lines.find((l) => l.startsWith("bin "));
    assert.match(bin ?? "", /trusted\.overlay\.opaque=79\]/);
    assert.doesNotMatch(bin ?? "", /origin/);
  });
});

test("a gzipped created layer applies with the diffID of the plain tar", async () => {
  await withTempDir(async (tmp) => {
    const src = join(tmp, "src");
    const dst = join(tmp, "dst");
    await mkdir(src);
    await mkdir(dst);
    await writeFile(join(src, "f"), "content");
    const { stream, result } = createLayerWithDigest(src);
    const gz = await readAll(gzipStream(stream));
    const created = await result;
    const applied = await applyLayer(streamOf(gz), dst);
    assert.equal(applied.diffId, created.diffId);
  });
});

test("createLayer errors for a missing directory and an aborted signal", async () => {
  await withTempDir(async (tmp) => {
    await assert.rejects(readAll(createLayer(join(tmp, "missing"))));
    await writeFile(join(tmp, "f"), "x");
    const ac = new AbortController();
    ac.abort();
    const { stream, result } = createLayerWithDigest(tmp, { signal: ac.signal });
    await assert.rejects(readAll(stream));
    await assert.rejects(result);
  });
});

test("a large file under backpressure leaves no listeners behind (no MaxListenersExceededWarning)", async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, "big.bin"), Buffer.alloc(24 << 20, 1));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const layer = createLayer(dir);
      // A slow reader, so that the packer waits for 'drain' many times.
      for await (const _ of layer) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w === "MaxListenersExceededWarning"),
      [],
    );
  });
});
