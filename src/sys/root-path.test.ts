import assert from "node:assert/strict";
import { mkdir, mkdtemp, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  assertOpenedInside,
  hostLocation,
  isInside,
  readFileInRoot,
  resolveContainerPath,
  resolveInRoot,
} from "./root-path.js";

describe("resolveContainerPath", () => {
  let dir: string;
  let rootfs: string;
  let vol: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cpath-"));
    rootfs = join(dir, "rootfs");
    vol = join(dir, "vol");
    await mkdir(join(rootfs, "etc"), { recursive: true });
    await mkdir(join(rootfs, "data"), { recursive: true });
    await mkdir(vol);
    await writeFile(join(rootfs, "etc", "passwd"), "root\n");
    await writeFile(join(vol, "inside"), "v\n");
    await symlink("/", join(rootfs, "toroot"));
    await symlink("../../../../../..", join(rootfs, "up"));
    await symlink("/etc/passwd", join(rootfs, "pw"));
    await symlink("/etc", join(vol, "etclink"));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const mounts = () => [{ destination: "/data", source: vol }];

  it("keeps a symlink to / inside the root", async () => {
    const r = await resolveContainerPath(rootfs, [], "/toroot/etc/passwd");
    assert.equal(r.host, join(rootfs, "etc/passwd"));
    assert.equal(r.containerPath, "/etc/passwd");
    assert.equal(r.exists, true);
  });
  it("clamps a relative symlink that climbs above the root", async () => {
    const r = await resolveContainerPath(rootfs, [], "/up/etc/passwd");
    assert.equal(r.host, join(rootfs, "etc/passwd"));
    const top = await resolveContainerPath(rootfs, [], "/up/", {});
    assert.equal(top.host, join(rootfs, "/"));
    assert.equal(top.containerPath, "/");
  });
  it("does not follow the last component unless asked or given a trailing slash", async () => {
    const r = await resolveContainerPath(rootfs, [], "/pw");
    assert.equal(r.host, join(rootfs, "pw"));
    const f = await resolveContainerPath(rootfs, [], "/pw", { followLast: true });
    assert.equal(f.containerPath, "/etc/passwd");
    const d = await resolveContainerPath(rootfs, [], "/toroot/");
    assert.equal(d.containerPath, "/");
  });
  it("maps paths under a mount to its source, and symlinks in it back to the container root", async () => {
    const r = await resolveContainerPath(rootfs, mounts(), "/data/inside");
    assert.equal(r.host, join(vol, "inside"));
    assert.equal(r.root, vol);
    const l = await resolveContainerPath(rootfs, mounts(), "/data/etclink/passwd");
    assert.equal(l.host, join(rootfs, "etc/passwd"));
    assert.equal(l.root, rootfs);
  });
  it("reports a missing path; '..' after a missing component never climbs above the root", async () => {
    const r = await resolveContainerPath(rootfs, [], "/toroot/nope/x");
    assert.equal(r.exists, false);
    assert.equal(r.host, join(rootfs, "nope/x"));
    const up = await resolveContainerPath(rootfs, [], "/nope/../../../up/x");
    assert.equal(up.exists, false);
    assert.equal(up.host, join(rootfs, "up/x"));
  });
  it("hostLocation picks the innermost mount", () => {
    const m = [
      { destination: "/a", source: "/s1" },
      { destination: "/a/b", source: "/s2" },
    ];
    assert.equal(hostLocation("/r", m, "/a/b/c").host, "/s2/c");
    assert.equal(hostLocation("/r", m, "/a/x").host, "/s1/x");
    assert.equal(hostLocation("/r", m, "/ab").host, "/r/ab");
  });
  it("isInside does not confuse a sibling with the same prefix", () => {
    assert.equal(isInside("/a/dest", "/a/dest/x"), true);
    assert.equal(isInside("/a/dest", "/a/dest-evil"), false);
  });
  it("assertOpenedInside checks the descriptor's real path", async () => {
    const { open } = await import("node:fs/promises");
    const fh = await open(join(rootfs, "etc/passwd"), "r");
    try {
      assert.equal(await readlink(`/proc/self/fd/${fh.fd}`), join(rootfs, "etc/passwd"));
      await assertOpenedInside(fh.fd, rootfs, "/etc/passwd");
      await assert.rejects(assertOpenedInside(fh.fd, vol, "/etc/passwd"), /outside the container/);
    } finally {
      await fh.close();
    }
  });
});

describe("resolveInRoot and readFileInRoot (an image's or a build stage's root, no mounts)", () => {
  let dir: string;
  let root: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rootpath-"));
    root = join(dir, "outer", "root");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\n");
    // What a hostile image could plant beside the root: a file two levels above it.
    await writeFile(join(dir, "secret"), "HOST\n");
    await symlink("missing/../../../secret", join(root, "climb-after-missing"));
    await symlink("../../../../secret", join(root, "climb"));
    await symlink("/etc/passwd", join(root, "abs"));
    await symlink("etc", join(root, "rel"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("follows every symlink, the last one too, inside the root", async () => {
    assert.equal(await resolveInRoot(root, "/abs"), join(root, "etc/passwd"));
    assert.equal(await resolveInRoot(root, "/rel/passwd"), join(root, "etc/passwd"));
    assert.equal(await resolveInRoot(root, "/climb"), join(root, "secret"));
    assert.equal(await readFileInRoot(root, "/abs"), "root:x:0:0::/root:/bin/sh\n");
    assert.equal(await resolveInRoot(root, "/new/dir/file"), join(root, "new/dir/file"));
  });
  it("never reaches a host file through '..' after a missing component", async () => {
    assert.equal(await resolveInRoot(root, "/climb-after-missing"), join(root, "secret"));
    assert.equal(await readFileInRoot(root, "/climb-after-missing"), undefined);
    assert.equal(await readFileInRoot(root, "/climb"), undefined);
  });
});
