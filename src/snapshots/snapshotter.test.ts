/** The overlay snapshotter on a temporary directory: lifecycle, stale cleanup, listing, mounts. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { type Digest, digestHex, sha256Digest } from "../oci/digest.js";
import { Snapshotter } from "./snapshotter.js";

const C1 = sha256Digest("layer one");
const C2 = sha256Digest("layer two");
const C3 = sha256Digest("layer three");

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

describe("Snapshotter", () => {
  let root: string;
  let dir: string;
  let snaps: Snapshotter;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-snap-"));
    dir = join(root, "snapshots");
    snaps = new Snapshotter(dir);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function commitWith(chainId: Digest, file: string, body: string): Promise<boolean> {
    const p = await snaps.prepare();
    await writeFile(join(p.fs, file), body);
    return snaps.commit(p, chainId);
  }

  test("prepare makes a private .tmp- directory with an empty fs/ inside the snapshot root", async () => {
    const p = await snaps.prepare();
    assert.equal(dirname(p.dir), dir);
    assert.match(basename(p.dir), /^\.tmp-/);
    assert.equal(p.fs, join(p.dir, "fs"));
    assert.deepEqual(await readdir(p.fs), []);
    const other = await snaps.prepare();
    assert.notEqual(other.dir, p.dir);
  });

  test("commit publishes under the chainID; exists and fsPath see it", async () => {
    assert.equal(await snaps.exists(C1), false);
    const p = await snaps.prepare();
    await writeFile(join(p.fs, "hello"), "world");
    assert.equal(await snaps.commit(p, C1), true);
    assert.equal(snaps.fsPath(C1), join(dir, digestHex(C1), "fs"));
    assert.equal(await snaps.exists(C1), true);
    assert.equal(await readFile(join(snaps.fsPath(C1), "hello"), "utf8"), "world");
    assert.equal(await exists(p.dir), false, "the prepared directory was renamed away");
  });

  test("commit of a chainID that already exists returns false, removes ours and keeps theirs", async () => {
    assert.equal(await commitWith(C1, "first", "1"), true);
    const p = await snaps.prepare();
    await writeFile(join(p.fs, "second"), "2");
    assert.equal(await snaps.commit(p, C1), false);
    assert.equal(await exists(p.dir), false);
    assert.deepEqual(await readdir(snaps.fsPath(C1)), ["first"]);
    assert.deepEqual((await readdir(dir)).sort(), [digestHex(C1)]);
  });

  test("abort removes a prepared snapshot", async () => {
    const p = await snaps.prepare();
    await writeFile(join(p.fs, "x"), "x");
    await snaps.abort(p);
    assert.equal(await exists(p.dir), false);
  });

  test("remove deletes a snapshot without leaving .del- directories; a missing one is fine", async () => {
    await commitWith(C1, "a", "a");
    await commitWith(C2, "b", "b");
    await snaps.remove(C1);
    assert.equal(await snaps.exists(C1), false);
    assert.equal(await snaps.exists(C2), true);
    assert.deepEqual(await readdir(dir), [digestHex(C2)]);
    await snaps.remove(C1);
    await snaps.remove(C3);
    assert.deepEqual(await readdir(dir), [digestHex(C2)]);
  });

  test("cleanupStale removes old .tmp-* and every .del-*, keeps fresh .tmp-* and everything else", async () => {
    await commitWith(C1, "a", "a");
    const old = await snaps.prepare();
    const fresh = await snaps.prepare();
    await writeFile(join(old.fs, "partial"), "x");
    const past = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(old.dir, past, past);
    const del = join(dir, `.del-${digestHex(C2)}-abcd`);
    await mkdir(join(del, "fs"), { recursive: true });
    await mkdir(join(dir, "unrelated"));
    const oldOther = join(dir, "old-other");
    await mkdir(oldOther);
    await utimes(oldOther, past, past);

    assert.equal(await snaps.cleanupStale(60 * 60 * 1000), 2);
    assert.deepEqual(
      (await readdir(dir)).sort(),
      [basename(fresh.dir), digestHex(C1), "old-other", "unrelated"].sort(),
    );
    assert.equal(await snaps.exists(C1), true);
  });

  test("cleanupStale takes `now` into account and copes with a missing root", async () => {
    const p = await snaps.prepare();
    assert.equal(await snaps.cleanupStale(1000, Date.now() + 10_000), 1);
    assert.equal(await exists(p.dir), false);
    const none = new Snapshotter(join(root, "does-not-exist"));
    assert.equal(await none.cleanupStale(0), 0);
  });

  test("listOnDisk lists committed snapshots only, optionally those modified before a time", async () => {
    assert.deepEqual(await new Snapshotter(join(root, "missing")).listOnDisk(), []);
    await commitWith(C1, "a", "a");
    await commitWith(C2, "b", "b");
    await snaps.prepare();
    await mkdir(join(dir, `.del-${digestHex(C3)}-0000`));
    await mkdir(join(dir, "ABCDEF"));
    await mkdir(join(dir, digestHex(C3).slice(0, 63)));
    assert.deepEqual((await snaps.listOnDisk()).sort(), [digestHex(C1), digestHex(C2)].sort());

    const past = new Date(Date.now() - 60_000);
    await utimes(join(dir, digestHex(C1)), past, past);
    const cutoff = Date.now() - 30_000;
    assert.deepEqual(await snaps.listOnDisk({ modifiedBefore: cutoff }), [digestHex(C1)]);
    assert.deepEqual(await snaps.listOnDisk({ modifiedBefore: 0 }), []);
  });

  const short = (c: Digest) => `l/${digestHex(c).slice(0, 20)}`;

  test("mounts stacks layers top first in lowerdir (short links), over the upper and work directories", () => {
    const [m, ...rest] = snaps.mounts([C1, C2, C3], "/c/upper", "/c/work");
    assert.equal(rest.length, 0);
    assert.deepEqual(m, {
      type: "overlay",
      source: "overlay",
      options: [
        `lowerdir=${short(C3)}:${short(C2)}:${short(C1)}`,
        "upperdir=/c/upper",
        "workdir=/c/work",
        "index=off",
      ],
      cwd: snaps.dir,
    });
  });

  test("the short links lead to the snapshots, and 125 layers fit in one page of mount options", async () => {
    const many = Array.from({ length: 125 }, (_, i) => sha256Digest(String(i)));
    const [m] = snaps.mounts(
      many,
      "/var/lib/berth/containers/" + "f".repeat(64) + "/upper",
      "/var/lib/berth/containers/" + "f".repeat(64) + "/work",
      "/var/lib/berth/containers/" + "f".repeat(64) + "/init",
    );
    assert.ok((m?.options.join(",").length ?? 0) < 4096, "fits a page");
    await snaps.ensureLinks([C1, C2]);
    await snaps.ensureLinks([C1]); // idempotent
    assert.equal(await readlink(join(snaps.dir, short(C1))), `../${digestHex(C1)}/fs`);
    await snaps.remove(C2);
    await assert.rejects(readlink(join(snaps.dir, short(C2))), /ENOENT/);
    assert.ok(!(await snaps.listOnDisk()).includes("l"), "the link directory is not a snapshot");
  });

  test("mounts with one layer and with none (a bind of the upper directory)", () => {
    assert.deepEqual(snaps.mounts([C1], "/u", "/w")[0]?.options[0], `lowerdir=${short(C1)}`);
    assert.deepEqual(snaps.mounts([], "/u", "/w"), [
      { type: "bind", source: "/u", options: ["rbind", "rw"] },
    ]);
  });

  test("mounts does not reorder the caller's array", () => {
    const layers = [C1, C2];
    snaps.mounts(layers, "/u", "/w");
    assert.deepEqual(layers, [C1, C2]);
  });
});
