/**
 * Copy-up into a volume on the real filesystem (as root: ownership is part of what is kept):
 * owners, modes, times, symlinks kept as symlinks and never followed, hardlinks, FIFOs, xattrs,
 * and a volume that already holds anything left untouched.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { type MetadataDb, openDatabase } from "../metadata/db.js";
import { copyTree } from "./copy-up.js";
import { LocalVolumeService } from "./service.js";

const T1 = new Date("2020-01-02T03:04:05Z");
const T2 = new Date("2021-06-07T08:09:10Z");

describe("copy-up", () => {
  let dir: string;
  let src: string;
  let outside: string;
  let db: MetadataDb;
  let svc: LocalVolumeService;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-copyup-"));
    src = join(dir, "rootfs", "var", "lib", "app");
    outside = join(dir, "outside");
    await mkdir(src, { recursive: true });
    await mkdir(outside);
    await writeFile(join(outside, "host-secret"), "do not copy");
    db = openDatabase(join(dir, "berth.db"));
    svc = new LocalVolumeService({ db, dir: join(dir, "volumes") });
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An image directory with every kind of entry the copy must keep. */
  async function buildSource(): Promise<void> {
    await writeFile(join(src, "config"), "key=value\n");
    await chown(join(src, "config"), 1000, 1001);
    await chmod(join(src, "config"), 0o4750);
    await utimes(join(src, "config"), T1, T1);
    await mkdir(join(src, "sub", "deep"), { recursive: true });
    await writeFile(join(src, "sub", "deep", "file"), "deep");
    await link(join(src, "config"), join(src, "sub", "config-link"));
    await chown(join(src, "sub"), 33, 33);
    await chmod(join(src, "sub"), 0o1770);
    await utimes(join(src, "sub"), T2, T2);
    await symlink("/etc/passwd", join(src, "abs-link"));
    await lchown(join(src, "abs-link"), 7, 8);
    await lutimes(join(src, "abs-link"), T1, T1);
    await symlink(outside, join(src, "dir-link"));
    await symlink("../../../../outside/host-secret", join(src, "rel-link"));
    execFileSync("mkfifo", ["-m", "0640", join(src, "fifo")]);
    execFileSync("setfattr", ["-n", "user.berth", "-v", "kept", join(src, "config")]);
    await chown(src, 999, 998);
    await chmod(src, 0o750);
  }

  test("copyTree keeps owners, modes, times, symlinks, hardlinks, FIFOs and xattrs", async () => {
    await buildSource();
    const dest = join(dir, "dest");
    await mkdir(dest);
    await copyTree(src, dest);
    assert.deepEqual((await readdir(dest)).sort(), [
      "abs-link",
      "config",
      "dir-link",
      "fifo",
      "rel-link",
      "sub",
    ]);

    const cfg = await lstat(join(dest, "config"));
    assert.equal(await readFile(join(dest, "config"), "utf8"), "key=value\n");
    assert.equal(cfg.uid, 1000);
    assert.equal(cfg.gid, 1001);
    assert.equal(cfg.mode & 0o7777, 0o4750, "setuid kept after chown");
    assert.equal(cfg.mtimeMs, T1.getTime());
    assert.equal(cfg.nlink, 2);
    assert.equal(
      (await lstat(join(dest, "sub", "config-link"))).ino,
      cfg.ino,
      "hardlink kept within the copy",
    );

    const sub = await lstat(join(dest, "sub"));
    assert.ok(sub.isDirectory());
    assert.deepEqual([sub.uid, sub.gid, sub.mode & 0o7777], [33, 33, 0o1770]);
    assert.equal(sub.mtimeMs, T2.getTime(), "directory time set after its children");
    assert.equal(await readFile(join(dest, "sub", "deep", "file"), "utf8"), "deep");

    const abs = await lstat(join(dest, "abs-link"));
    assert.ok(abs.isSymbolicLink());
    assert.equal(await readlink(join(dest, "abs-link")), "/etc/passwd");
    assert.deepEqual([abs.uid, abs.gid, abs.mtimeMs], [7, 8, T1.getTime()]);
    assert.ok(
      (await lstat(join(dest, "dir-link"))).isSymbolicLink(),
      "a symlink to a directory is not entered",
    );
    assert.equal(await readlink(join(dest, "rel-link")), "../../../../outside/host-secret");
    assert.ok((await lstat(join(dest, "fifo"))).isFIFO());
    assert.equal((await lstat(join(dest, "fifo"))).mode & 0o777, 0o640);
    const attr = execFileSync("getfattr", ["--only-values", "-n", "user.berth", join(dest, "config")]);
    assert.equal(attr.toString(), "kept");
    // Nothing from outside the source was read into the copy.
    const all = execFileSync("find", [dest, "-type", "f"]).toString();
    assert.doesNotMatch(all, /host-secret/);
  });

  test("populateFromImage fills an empty volume and gives _data the source directory's owner and mode", async () => {
    await buildSource();
    const v = await svc.create({ Name: "appdata" });
    assert.equal(await svc.populateFromImage("appdata", src), true);
    const data = await lstat(v.Mountpoint);
    assert.deepEqual([data.uid, data.gid, data.mode & 0o7777], [999, 998, 0o750]);
    assert.equal(await readFile(join(v.Mountpoint, "config"), "utf8"), "key=value\n");
    assert.ok((await lstat(join(v.Mountpoint, "dir-link"))).isSymbolicLink());
    // No staging directory is left beside _data.
    assert.deepEqual(await readdir(join(dir, "volumes", "appdata")), ["_data"]);
    // A second mount finds it non-empty and changes nothing.
    await writeFile(join(src, "new-in-image"), "x");
    assert.equal(await svc.populateFromImage("appdata", src), false);
    await assert.rejects(lstat(join(v.Mountpoint, "new-in-image")));
  });

  test("a volume that holds anything is left untouched", async () => {
    await buildSource();
    const v = await svc.create({ Name: "used" });
    await writeFile(join(v.Mountpoint, "mine"), "user data");
    await chmod(v.Mountpoint, 0o700);
    assert.equal(await svc.populateFromImage("used", src), false);
    assert.deepEqual(await readdir(v.Mountpoint), ["mine"]);
    assert.equal((await lstat(v.Mountpoint)).mode & 0o7777, 0o700);
  });

  test("a source that is a symlink (even to a directory) or missing is not followed: nothing copied", async () => {
    const v = await svc.create({ Name: "empty1" });
    const linkPath = join(dir, "rootfs", "var", "lib", "linked");
    await symlink(outside, linkPath);
    assert.equal(await svc.populateFromImage("empty1", linkPath), false);
    assert.equal(await svc.populateFromImage("empty1", join(dir, "rootfs", "nope")), false);
    assert.deepEqual(await readdir(v.Mountpoint), []);
    await assert.rejects(svc.populateFromImage("nope", src), { kind: "NotFound" });
    await assert.rejects(svc.populateFromImage("empty1", "relative/path"), { kind: "InvalidArgument" });
  });
});
