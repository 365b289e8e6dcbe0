import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstat, mkdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { isBerthError } from "../base/errors.js";
import { applyLayer } from "./apply.js";
import { readXattrsTree } from "./host-tools.js";
import { describeTree, makeTar, streamOf, type TarSpec, withTempDir } from "./test-support.js";

function sha256(b: Buffer): string {
  return `sha256:${createHash("sha256").update(b).digest("hex")}`;
}

const isInvalid = (err: unknown): boolean => isBerthError(err, "InvalidArgument");

test("applyLayer extracts files, dirs, symlinks, hardlinks, devices with their metadata", async () => {
  await withTempDir(async (tmp) => {
    const target = join(tmp, "layer");
    await mkdir(target);
    const mtime = new Date(1_600_000_000_000);
    const bytes = await makeTar([
      { name: "./bin/", type: "directory", mode: 0o755, mtime },
      { name: "./bin/su", body: "#!su", mode: 0o4755, uid: 0, gid: 0, mtime },
      { name: "./tmp/", type: "directory", mode: 0o1777, mtime },
      { name: "./home/app/", type: "directory", mode: 0o2750, uid: 1000, gid: 1001, mtime },
      { name: "./home/app/notes", body: "hi", mode: 0o600, uid: 1000, gid: 1001, mtime },
      { name: "./bin/sh", type: "symlink", linkname: "/bin/busybox", mtime },
      { name: "./bin/su2", type: "link", linkname: "bin/su" },
      { name: "./dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666, mtime },
      { name: "./dev/loop0", type: "block-device", devmajor: 7, devminor: 0, mode: 0o660, gid: 6, mtime },
      { name: "./run/fifo", type: "fifo", mode: 0o620, mtime },
    ]);
    const result = await applyLayer(streamOf(bytes), target);
    assert.equal(result.diffId, sha256(bytes));
    assert.equal(result.size, bytes.length);
    assert.equal(result.unpackedBytes, 6);

    const su = await lstat(join(target, "bin/su"));
    assert.equal(su.mode & 0o7777, 0o4755);
    assert.equal(Math.floor(su.mtimeMs), 1_600_000_000_000);
    assert.equal((await lstat(join(target, "tmp"))).mode & 0o7777, 0o1777);
    const home = await lstat(join(target, "home/app"));
    assert.equal(home.mode & 0o7777, 0o2750);
    assert.deepEqual([home.uid, home.gid], [1000, 1001]);
    assert.equal(Math.floor(home.mtimeMs), 1_600_000_000_000, "directory mtimes survive later children");
    assert.equal((await lstat(join(target, "home"))).mode & 0o7777, 0o755, "implied parents are 0755");
    assert.equal(await readFile(join(target, "home/app/notes"), "utf8"), "hi");
    assert.equal(await readlink(join(target, "bin/sh")), "/bin/busybox");
    assert.equal((await lstat(join(target, "bin/su2"))).ino, su.ino);
    const dnull = await lstat(join(target, "dev/null"));
    assert.ok(dnull.isCharacterDevice());
    assert.equal(dnull.rdev, (1 << 8) | 3);
    assert.equal(dnull.mode & 0o7777, 0o666);
    const loop = await lstat(join(target, "dev/loop0"));
    assert.ok(loop.isBlockDevice());
    assert.equal(loop.gid, 6);
    assert.ok((await lstat(join(target, "run/fifo"))).isFIFO());
  });
});

test("applyLayer accepts gzip input and hashes the uncompressed tar", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([{ name: "hello.txt", body: "hello world" }]);
    const result = await applyLayer(streamOf(gzipSync(bytes)), tmp);
    assert.equal(result.diffId, sha256(bytes));
    assert.equal(result.size, bytes.length);
    assert.equal(await readFile(join(tmp, "hello.txt"), "utf8"), "hello world");
  });
});

test("whiteouts become 0/0 character devices and opaque markers an overlay xattr", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([
      { name: "etc/", type: "directory" },
      { name: "etc/.wh.my-app-config" },
      { name: ".wh.top" },
      { name: "bin/.wh..wh..opq" },
      { name: "bin/tool", body: "new" },
      { name: ".wh..wh.plnk" },
      { name: ".wh.keep" },
      { name: "keep", body: "kept" },
      { name: "later", body: "written first" },
      { name: ".wh.later" },
    ]);
    await applyLayer(streamOf(bytes), tmp);
    for (const p of ["etc/my-app-config", "top"]) {
      const st = await lstat(join(tmp, p));
      assert.ok(st.isCharacterDevice(), p);
      assert.equal(st.rdev, 0, p);
    }
    const attrs = await readXattrsTree(tmp);
    assert.equal(attrs.get(join(tmp, "bin"))?.get("trusted.overlay.opaque")?.toString(), "y");
    assert.equal(await readFile(join(tmp, "bin/tool"), "utf8"), "new");
    // A name created by this layer wins over its own whiteout, in either order.
    assert.equal(await readFile(join(tmp, "keep"), "utf8"), "kept");
    assert.equal(await readFile(join(tmp, "later"), "utf8"), "written first");
    // No marker files are left behind.
    await assert.rejects(lstat(join(tmp, ".wh.top")), { code: "ENOENT" });
    await assert.rejects(lstat(join(tmp, ".wh..wh.plnk")), { code: "ENOENT" });
    await assert.rejects(lstat(join(tmp, "bin/.wh..wh..opq")), { code: "ENOENT" });
  });
});

test("PAX xattrs are applied except trusted.overlay.* and user.overlay.*", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([
      {
        name: "d/",
        type: "directory",
        pax: {
          "SCHILY.xattr.trusted.overlay.opaque": "y",
          "SCHILY.xattr.user.overlay.redirect": "/etc",
          "SCHILY.xattr.trusted.overlay.redirect": "/etc",
          "SCHILY.xattr.user.note": "kept",
        },
      },
      {
        name: "d/f",
        body: "x",
        pax: { "SCHILY.xattr.trusted.overlay.metacopy": "", "SCHILY.xattr.user.a": "1" },
      },
    ]);
    await applyLayer(streamOf(bytes), tmp);
    const attrs = await readXattrsTree(tmp);
    const d = attrs.get(join(tmp, "d"));
    assert.deepEqual([...(d?.keys() ?? [])], ["user.note"]);
    assert.deepEqual([...(attrs.get(join(tmp, "d/f"))?.keys() ?? [])], ["user.a"]);
  });
});

test("an xattr the kernel refuses does not fail the layer; the others still apply", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([
      { name: "a", body: "1", pax: { "SCHILY.xattr.user.first": "1" } },
      { name: "l", type: "symlink", linkname: "a", pax: { "SCHILY.xattr.user.refused": "x" } },
      { name: "z", body: "2", pax: { "SCHILY.xattr.user.last": "2" } },
    ]);
    await applyLayer(streamOf(bytes), tmp);
    const attrs = await readXattrsTree(tmp);
    assert.equal(attrs.get(join(tmp, "a"))?.get("user.first")?.toString(), "1");
    assert.equal(attrs.get(join(tmp, "z"))?.get("user.last")?.toString(), "2");
    assert.equal(attrs.get(join(tmp, "l")), undefined);
  });
});

/**
 * Runs `fn` in a temporary directory holding an empty `layer/` (the target) beside `victim/file`
 * (a file no layer may reach); `outside()` describes everything but the layer, to compare before
 * and after.
 */
async function withVictim(
  fn: (dirs: { tmp: string; target: string; outside: () => Promise<string[]> }) => Promise<void>,
): Promise<void> {
  await withTempDir(async (tmp) => {
    const target = join(tmp, "layer");
    const victim = join(tmp, "victim");
    await mkdir(target);
    await mkdir(victim);
    await writeFile(join(victim, "file"), "original", { mode: 0o644 });
    const outside = async (): Promise<string[]> =>
      (await describeTree(tmp)).filter((l) => !l.startsWith("layer"));
    await fn({ tmp, target, outside });
  });
}

test("an existing symlink or file is replaced, never followed", async () => {
  await withVictim(async ({ target, outside }) => {
    const before = await outside();
    const bytes = await makeTar([
      { name: "f", type: "symlink", linkname: "../victim/file" },
      { name: "f", body: "pwned", mode: 0o777 },
      { name: "d", type: "symlink", linkname: "../victim" },
      { name: "d/", type: "directory", mode: 0o777 },
      { name: "s", type: "symlink", linkname: "../victim/file" },
      { name: "hl", type: "link", linkname: "s", mode: 0o777 },
      { name: "hl", body: "pwned again" },
    ]);
    await applyLayer(streamOf(bytes), target);
    assert.equal(await readFile(join(target, "f"), "utf8"), "pwned");
    assert.ok((await lstat(join(target, "d"))).isDirectory());
    assert.equal(await readFile(join(target, "hl"), "utf8"), "pwned again");
    assert.equal(await readlink(join(target, "s")), "../victim/file");
    assert.deepEqual(await outside(), before);
  });
});

test("deferred work (whiteouts, xattrs, dir times) is not redirected by a later symlink", async () => {
  await withVictim(async ({ target, outside }) => {
    const before = await outside();
    const bytes = await makeTar([
      { name: "d/", type: "directory", mode: 0o777, mtime: new Date(0), pax: { "SCHILY.xattr.user.x": "1" } },
      { name: "d/f", body: "x", pax: { "SCHILY.xattr.user.y": "2" } },
      { name: "d/file", body: "x", pax: { "SCHILY.xattr.user.z": "3" } },
      { name: "d/.wh.file" },
      { name: "d/.wh.other" },
      { name: "d/.wh..wh..opq" },
      { name: "d", type: "symlink", linkname: "../victim" },
    ]);
    await applyLayer(streamOf(bytes), target);
    assert.equal(await readlink(join(target, "d")), "../victim");
    assert.deepEqual(await outside(), before);
  });
});

/** Applies `entries` into tmp/layer and checks it rejects and that nothing beside the layer changed. */
async function expectBreakoutRejected(
  entries: (tmp: string) => TarSpec[],
  opts: { gzip?: boolean } = {},
): Promise<void> {
  await withVictim(async ({ tmp, target, outside }) => {
    const before = await outside();
    let bytes = await makeTar(entries(tmp));
    if (opts.gzip) bytes = gzipSync(bytes);
    await assert.rejects(applyLayer(streamOf(bytes), target), isInvalid);
    assert.deepEqual(await outside(), before);
    assert.equal((await lstat(join(tmp, "victim/file"))).mode & 0o777, 0o644);
    assert.equal(await readFile(join(tmp, "victim/file"), "utf8"), "original");
  });
}

const file = (name: string, body = "pwned"): TarSpec => ({ name, body, mode: 0o777 });

test("breakout: ../victim/x is rejected", () => expectBreakoutRejected(() => [file("../victim/x")]));
test("breakout: /../victim/x is rejected", () => expectBreakoutRejected(() => [file("/../victim/x")]));
test("breakout: .. as a directory is rejected", () =>
  expectBreakoutRejected(() => [{ name: "..", type: "directory", mode: 0o777 }]));
test("breakout: ../victim/file as a file (overwrite) is rejected", () =>
  expectBreakoutRejected(() => [file("a/../../victim/file")]));
test("breakout: symlink -> / then a write through it is rejected", () =>
  expectBreakoutRejected((tmp) => [
    { name: "link", type: "symlink", linkname: "/" },
    file(`link${tmp}/victim/x`),
  ]));
test("breakout: symlink -> ../victim then link/x is rejected", () =>
  expectBreakoutRejected(() => [{ name: "link", type: "symlink", linkname: "../victim" }, file("link/x")]));
test("breakout: symlink -> ../victim then a directory through it is rejected", () =>
  expectBreakoutRejected(() => [
    { name: "link", type: "symlink", linkname: "../victim" },
    { name: "link/sub/", type: "directory", mode: 0o777 },
  ]));
test("breakout: two-hop symlink chain is rejected", () =>
  expectBreakoutRejected(() => [
    { name: "inner/", type: "directory" },
    { name: "inner/go_up", type: "symlink", linkname: ".." },
    { name: "inner/go_up/escape", type: "symlink", linkname: "../victim" },
    file("inner/go_up/escape/x"),
  ]));
test("breakout: two-hop chain through a top-level escape link is rejected", () =>
  expectBreakoutRejected(() => [
    { name: "inner/", type: "directory" },
    { name: "inner/go_up", type: "symlink", linkname: ".." },
    { name: "escape", type: "symlink", linkname: "inner/go_up/../victim" },
    file("escape/x"),
  ]));
test("breakout: hardlink to ../victim/file is rejected", () =>
  expectBreakoutRejected(() => [{ name: "hl", type: "link", linkname: "../victim/file" }]));
test("breakout: hardlink to an absolute host path is resolved inside the layer (not found)", () =>
  expectBreakoutRejected((tmp) => [{ name: "hl", type: "link", linkname: `${tmp}/victim/file` }]));
test("breakout: hardlink through a symlinked directory is rejected", () =>
  expectBreakoutRejected(() => [
    { name: "v", type: "symlink", linkname: "../victim" },
    { name: "hl", type: "link", linkname: "v/file" },
  ]));
test("breakout: hardlink to an outside-pointing symlink, then a write through it, is rejected", () =>
  expectBreakoutRejected(() => [
    { name: "s", type: "symlink", linkname: "../victim" },
    { name: "hl", type: "link", linkname: "s", mode: 0o777 },
    file("hl/file"),
  ]));
test("breakout: whiteout .wh... (parent) is rejected", () =>
  expectBreakoutRejected(() => [{ name: ".wh..." }]));
test("breakout: whiteout dir/.wh.. (the directory itself) is rejected", () =>
  expectBreakoutRejected(() => [{ name: "dir/", type: "directory" }, { name: "dir/.wh.." }]));
test("breakout: bare .wh. is rejected", () => expectBreakoutRejected(() => [{ name: "a/.wh." }]));
test("breakout: whiteout reached through ../ is rejected", () =>
  expectBreakoutRejected(() => [{ name: "../victim/.wh.file" }]));
test("breakout: whiteout through a symlinked directory is rejected", () =>
  expectBreakoutRejected(() => [
    { name: "v", type: "symlink", linkname: "../victim" },
    { name: "v/.wh.file" },
  ]));
test("breakout: opaque marker through a symlinked directory is rejected", () =>
  expectBreakoutRejected(() => [
    { name: "v", type: "symlink", linkname: "../victim" },
    { name: "v/.wh..wh..opq" },
  ]));

test("a truncated tar is rejected", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([
      { name: "big", body: Buffer.alloc(5000, 1) },
      { name: "after", body: "x" },
    ]);
    await assert.rejects(applyLayer(streamOf(bytes.subarray(0, 2000)), tmp), isInvalid);
  });
});

test("a corrupt header checksum is rejected", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([{ name: "a", body: "x" }]);
    bytes[10] = 0x41;
    await assert.rejects(applyLayer(streamOf(bytes), tmp), isInvalid);
  });
});

test("corrupt and truncated gzip are rejected", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([{ name: "big", body: Buffer.alloc(50_000, "abc") }]);
    const gz = gzipSync(bytes);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xaa, 15, 40);
    await assert.rejects(applyLayer(streamOf(corrupt), join(tmp)), isInvalid);
    await withTempDir(async (t2) => {
      await assert.rejects(applyLayer(streamOf(gz.subarray(0, gz.length - 10)), t2), isInvalid);
    });
  });
});

test("zstd layers are refused with a clear message", async () => {
  await withTempDir(async (tmp) => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    await assert.rejects(applyLayer(streamOf(zstd), tmp), /zstd-compressed layers are not supported yet/);
  });
});

test("entry and byte limits are enforced", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([
      { name: "a", body: "1" },
      { name: "b", body: "2" },
      { name: "c", body: "3" },
    ]);
    await assert.rejects(
      applyLayer(streamOf(bytes), tmp, { maxEntries: 2 }),
      /more than the limit of 2 entries/,
    );
  });
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([{ name: "a", body: Buffer.alloc(10_000) }]);
    await assert.rejects(applyLayer(streamOf(bytes), tmp, { maxBytes: 4096 }), /larger than the limit/);
  });
});

test("an aborted signal cancels the extraction", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([{ name: "a", body: "1" }]);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(applyLayer(streamOf(bytes), tmp, { signal: ac.signal }), (err: unknown) =>
      isBerthError(err, "Canceled"),
    );
  });
});

test("sparse and unknown entry types are rejected", async () => {
  await withTempDir(async (tmp) => {
    const bytes = await makeTar([{ name: "s", body: "x", pax: { "GNU.sparse.major": "1" } }]);
    await assert.rejects(applyLayer(streamOf(bytes), tmp), /sparse/);
  });
});
