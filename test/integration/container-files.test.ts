/**
 * diff, commit, export and cp through the real bin/berth on runc + conmon + overlayfs,
 * including symlinks planted in the container that point out of it.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { runProgram, Store } from "./harness.js";

describe("container files: diff, commit, export, cp", () => {
  let store: Store;
  let host: string;
  before(async () => {
    store = await Store.create();
    await store.busybox();
    host = await mkdtemp(join(tmpdir(), "berth-cp-host-"));
  });
  after(async () => {
    await store.cleanup();
    await rm(host, { recursive: true, force: true });
  });

  it("diff lists A/C/D of the writable layer", async () => {
    await store.ok([
      "run",
      "--name",
      "d1",
      "busybox",
      "sh",
      "-c",
      "echo hi > /newf; rm /bin/ls; echo x >> /etc/passwd",
    ]);
    const r = await store.ok(["diff", "d1"]);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(lines, ["C /bin", "D /bin/ls", "C /etc", "C /etc/passwd", "A /newf"]);
  });

  it("commit makes an image that runs with the change, with -c, -m, -a and a history row", async () => {
    const id = (
      await store.ok([
        "commit",
        "-m",
        "my message",
        "-a",
        "Me <me@x>",
        "-c",
        'CMD ["cat","/newf"]',
        "d1",
        "committed:1",
      ])
    ).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const run = await store.ok(["run", "--rm", "committed:1"]);
    assert.equal(run.stdout, "hi\n");
    const gone = await store.berth(["run", "--rm", "committed:1", "ls", "/"]);
    assert.notEqual(gone.code, 0); // /bin/ls was deleted in the committed layer
    const hist = await store.ok([
      "history",
      "--no-trunc",
      "--format",
      "{{.ID}}|{{.CreatedBy}}|{{.Comment}}",
      "committed:1",
    ]);
    const rows = hist.stdout.trim().split("\n");
    const parentId = (await store.ok(["image", "inspect", "-f", "{{.Id}}", "busybox"])).stdout.trim();
    assert.equal(rows.length, 2);
    assert.equal(rows[0], `${id}|sh -c echo hi > /newf; rm /bin/ls; echo x >> /etc/passwd|my message`);
    assert.equal(rows[1]?.split("|")[0], parentId);
    const inspect = JSON.parse((await store.ok(["image", "inspect", "committed:1"])).stdout) as Array<{
      Author: string;
      Comment: string;
      Parent: string;
      Config: { Cmd: string[] };
      RootFS: { Layers: string[] };
    }>;
    assert.equal(inspect[0]?.Author, "Me <me@x>");
    assert.deepEqual(inspect[0]?.Config.Cmd, ["cat", "/newf"]);
    assert.equal(inspect[0]?.Parent, parentId);
    assert.equal(inspect[0]?.RootFS.Layers.length, 2);
    // The parent cannot be removed while the child exists.
    assert.notEqual((await store.berth(["rmi", parentId])).code, 0);
  });

  it("commit of a running container pauses it and leaves it running", async () => {
    await store.ok(["run", "-d", "--name", "live", "busybox", "sh", "-c", "echo up > /state; sleep 300"]);
    await waitFor(
      "the container's state file",
      async () => (await store.berth(["exec", "live", "cat", "/state"])).stdout === "up\n",
    );
    await store.ok(["commit", "live", "live:snap"]);
    const st = await store.ok(["inspect", "-f", "{{.State.Status}}", "live"]);
    assert.equal(st.stdout.trim(), "running");
    assert.equal((await store.ok(["run", "--rm", "live:snap", "cat", "/state"])).stdout, "up\n");
  });

  it("export writes the container's root filesystem as a tar", async () => {
    const out = join(host, "export.tar");
    await store.ok(["export", "-o", out, "d1"]);
    const list = await runProgram("tar", ["-tf", out]);
    const names = list.stdout.split("\n");
    assert.ok(names.includes("newf"));
    assert.ok(names.includes("etc/passwd"));
    assert.ok(names.includes("bin/busybox"));
    assert.ok(!names.includes("bin/ls"));
    const piped = await store.ok(["export", "d1"]);
    assert.ok(piped.out.length > 100_000);
  });

  it("cp copies files and directories in both directions and through volumes", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "c1",
      "-v",
      "cpvol:/data",
      "busybox",
      "sh",
      "-c",
      "mkdir /d; sleep 300",
    ]);
    await mkdir(join(host, "hd/sub"), { recursive: true });
    await writeFile(join(host, "hd/a"), "one\n");
    await writeFile(join(host, "hd/sub/b"), "two\n");
    await store.ok(["cp", join(host, "hd"), "c1:/d/"]);
    assert.equal((await store.ok(["exec", "c1", "cat", "/d/hd/sub/b"])).stdout, "two\n");
    await store.ok(["cp", join(host, "hd/a"), "c1:/renamed"]);
    assert.equal((await store.ok(["exec", "c1", "cat", "/renamed"])).stdout, "one\n");
    await store.ok(["cp", join(host, "hd/a"), "c1:/data/"]);
    assert.equal(await readFile(join(store.root, "volumes/cpvol/_data/a"), "utf8"), "one\n");
    await store.ok(["cp", "c1:/etc/passwd", join(host, "passwd")]);
    assert.match(await readFile(join(host, "passwd"), "utf8"), /^root:x:0:0/);
    await store.ok(["cp", "c1:/d/hd", join(host, "back")]);
    assert.equal(await readFile(join(host, "back/sub/b"), "utf8"), "two\n");
    await store.ok(["cp", "c1:/data", join(host, "voldir")]);
    assert.equal(await readFile(join(host, "voldir/a"), "utf8"), "one\n");
    const missing = await store.berth(["cp", "c1:/nonexistent", host]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Could not find the file \/nonexistent in container c1/);
  });

  it("cp streams tars with -", async () => {
    const tarOut = await store.ok(["cp", "c1:/d/hd", "-"]);
    await writeFile(join(host, "hd.tar"), tarOut.out);
    const names = (await runProgram("tar", ["-tf", join(host, "hd.tar")])).stdout.split("\n");
    assert.ok(names.includes("hd/") && names.includes("hd/sub/b"));
    const input = (await runProgram("tar", ["-C", join(host, "hd"), "-c", "."])).out;
    await store.ok(["cp", "-", "c1:/d/"], { input });
    assert.equal((await store.ok(["exec", "c1", "cat", "/d/sub/b"])).stdout, "two\n");
    const notDir = await store.berth(["cp", "-", "c1:/renamed"], { input });
    assert.notEqual(notDir.code, 0);
    assert.match(notDir.stderr, /must be a directory/);
  });

  it("cp into a symlink pointing out of the container writes inside it", async () => {
    const marker = `berth-escape-${process.pid}`;
    await store.ok([
      "run",
      "-d",
      "--name",
      "evil",
      "busybox",
      "sh",
      "-c",
      "ln -s / /rootlink; ln -s ../../../../../../tmp /uplink; sleep 300",
    ]);
    await writeFile(join(host, marker), "x\n");
    await store.ok(["cp", join(host, marker), "evil:/rootlink/tmp/"]);
    await store.ok(["cp", join(host, marker), "evil:/uplink/"]);
    await assert.rejects(stat(join("/tmp", marker)), /ENOENT/);
    assert.equal((await store.ok(["exec", "evil", "cat", `/tmp/${marker}`])).stdout, "x\n");
    // Through a symlink as the destination itself.
    await store.ok(["cp", join(host, marker), "evil:/rootlink"]);
    await assert.rejects(stat(join("/", marker)), /ENOENT/);
  });

  it("cp out of a symlink pointing out of the container never reads host files", async () => {
    const secret = join(host, "host-secret");
    await writeFile(secret, "HOST SECRET\n");
    await store.ok([
      "run",
      "-d",
      "--name",
      "evil2",
      "busybox",
      "sh",
      "-c",
      `ln -s ${secret} /abs; ln -s ../../../../../../..${secret} /rel; sleep 300`,
    ]);
    for (const p of ["/abs", "/rel"]) {
      const r = await store.berth(["cp", "-L", `evil2:${p}`, join(host, `out${p.slice(1)}`)]);
      assert.notEqual(r.code, 0, `cp -L ${p} must fail: the target does not exist in the container`);
      await assert.rejects(stat(join(host, `out${p.slice(1)}`)), /ENOENT/);
    }
    // Without -L the link itself is copied.
    await store.ok(["cp", "evil2:/abs", join(host, "abs-link")]);
    const link = await runProgram("readlink", [join(host, "abs-link")]);
    assert.equal(link.stdout.trim(), secret);
    const tarOut = await store.ok(["cp", "evil2:/", "-"]);
    assert.ok(!tarOut.out.includes(Buffer.from("HOST SECRET")));
  });
});
