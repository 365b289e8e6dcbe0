import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { mknod } from "../diff/host-tools.js";
import { existsInLayers, writableLayerChanges } from "./changes.js";

describe("writableLayerChanges", () => {
  let dir: string;
  let lower: string;
  let top: string;
  let upper: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "changes-"));
    lower = join(dir, "l0");
    top = join(dir, "l1");
    upper = join(dir, "upper");
    for (const d of ["etc", "bin", "usr/lib"]) await mkdir(join(lower, d), { recursive: true });
    await writeFile(join(lower, "etc/passwd"), "root\n");
    await writeFile(join(lower, "bin/ls"), "");
    await writeFile(join(lower, "usr/lib/gone"), "");
    await mkdir(join(top, "usr"), { recursive: true });
    await mknod(join(top, "usr/lib"), "c", { major: 0, minor: 0 }); // the top layer deleted /usr/lib
    for (const d of ["etc", "bin", "new/deep", "proc", "usr"])
      await mkdir(join(upper, d), { recursive: true });
    await writeFile(join(upper, "etc/passwd"), "root\nx\n");
    await writeFile(join(upper, "etc/hosts"), ""); // runc's mount stub
    await writeFile(join(upper, "new/deep/f"), "f");
    await writeFile(join(upper, "usr/lib"), "a file where the deleted dir was");
    await mknod(join(upper, "bin/ls"), "c", { major: 0, minor: 0 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("existsInLayers honours whiteouts of upper layers", async () => {
    assert.equal(await existsInLayers([top, lower], "etc/passwd"), true);
    assert.equal(await existsInLayers([top, lower], "usr/lib/gone"), false);
    assert.equal(await existsInLayers([top, lower], "usr/lib"), false);
    assert.equal(await existsInLayers([top, lower], "nope"), false);
  });
  it("lists A/C/D sorted, leaving out runc's mount stubs", async () => {
    const got = await writableLayerChanges(upper, [top, lower]);
    assert.deepEqual(got, [
      { Kind: 0, Path: "/bin" },
      { Kind: 2, Path: "/bin/ls" },
      { Kind: 0, Path: "/etc" },
      { Kind: 0, Path: "/etc/passwd" },
      { Kind: 1, Path: "/new" },
      { Kind: 1, Path: "/new/deep" },
      { Kind: 1, Path: "/new/deep/f" },
      { Kind: 0, Path: "/usr" },
      { Kind: 1, Path: "/usr/lib" },
    ]);
  });
});
