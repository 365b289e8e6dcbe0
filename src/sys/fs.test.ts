import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";

import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  lstatIfExists,
  readdirIfExists,
  readTextIfExists,
  readTextIfExistsSync,
  removeDirIfEmpty,
  removeIfExists,
  statIfExists,
  writeFileAtomic,
  writeFileReplace,
} from "./fs.js";

describe("file probes that tell absence from failure", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-fs-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a missing path, or one under a file, is undefined", async () => {
    await writeFile(join(dir, "file"), "x");
    assert.equal(await lstatIfExists(join(dir, "nothing")), undefined);
    assert.equal(await statIfExists(join(dir, "file", "below")), undefined);
    assert.equal(await readTextIfExists(join(dir, "nothing")), undefined);
    assert.equal((await lstatIfExists(join(dir, "file")))?.size, 1);
    assert.equal(await readTextIfExists(join(dir, "file")), "x");
    assert.equal(readTextIfExistsSync(join(dir, "nothing")), undefined);
    assert.equal(readTextIfExistsSync(join(dir, "file")), "x");
    assert.deepEqual(await readdirIfExists(join(dir, "nothing")), []);
    await mkdir(join(dir, "full"));
    await writeFile(join(dir, "full", "x"), "");
    assert.equal(await removeDirIfEmpty(join(dir, "full")), false);
    await rm(join(dir, "full", "x"));
    assert.equal(await removeDirIfEmpty(join(dir, "full")), true);
    assert.equal(await removeDirIfEmpty(join(dir, "full")), false);
    await assert.rejects(removeDirIfEmpty(join(dir, "file")), { code: "ENOTDIR" });
    assert.ok((await readdirIfExists(dir)).includes("file"));
  });

  test("lstat sees a link itself; stat of a link loop is an error, not absence", async () => {
    await symlink("loop-b", join(dir, "loop-a"));
    await symlink("loop-a", join(dir, "loop-b"));
    assert.ok((await lstatIfExists(join(dir, "loop-a")))?.isSymbolicLink());
    await assert.rejects(statIfExists(join(dir, "loop-a")), { code: "ELOOP" });
    await assert.rejects(readTextIfExists(join(dir, "loop-a")), { code: "ELOOP" });
    assert.throws(() => readTextIfExistsSync(join(dir, "loop-a")), { code: "ELOOP" });
    await assert.rejects(readdirIfExists(join(dir, "file")), { code: "ENOTDIR" });
  });

  test("writeFileAtomic replaces whole; removeIfExists tells whether it removed", async () => {
    const p = join(dir, "sub", "atomic");
    await writeFileAtomic(p, "one");
    await writeFileAtomic(p, "two");
    assert.equal(await readTextIfExists(p), "two");
    assert.equal(await removeIfExists(p), true);
    assert.equal(await removeIfExists(p), false);
  });

  test("writeFileReplace replaces whole, with its mode, making a missing directory, leaving no temp", async () => {
    const p = join(dir, "made", "replaced");
    await writeFileReplace(p, "one", 0o600);
    await writeFileReplace(p, "two", 0o600);
    assert.equal(await readTextIfExists(p), "two");
    assert.equal((await stat(p)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, "made")), ["replaced"]);
    await mkdir(join(dir, "made", "dir"));
    await assert.rejects(writeFileReplace(join(dir, "made", "dir"), "x"), { code: "EISDIR" });
    assert.deepEqual((await readdir(join(dir, "made"))).sort(), ["dir", "replaced"]);
  });
});
