/**
 * Error messages and exit codes as Docker's: signals are parsed as Docker parses them (never a
 * raw runc log line), Node's errno texts read as Go's, `create` exits 1 for what the engine
 * refuses and 125 for flags, and a refused request changes nothing.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

/** No raw runc log line or Node errno text in what the user sees. */
function assertNoRawText(text: string): void {
  assert.doesNotMatch(text, /time="|level=error|msg="/);
  assert.doesNotMatch(text, /\bE[A-Z]{3,}: /);
}

const count = async () => (await store.ok(["ps", "-aq"])).stdout.split("\n").filter(Boolean).length;

describe("signals", () => {
  test("kill and stop refuse an unknown signal with Docker's message and leave the container running", async () => {
    await store.ok(["run", "-d", "--name", "sigbox", "busybox", "sleep", "60"]);
    for (const [verb, sig] of [
      ["kill", "BOGUS"],
      ["kill", "99"],
      ["kill", "0"],
      ["stop", "SIGBOGUS"],
    ] as const) {
      const r = await store.berth([verb, "-s", sig, "sigbox"]);
      assert.equal(r.code, 1, `${verb} -s ${sig}`);
      assert.equal(r.stderr, `Error response from daemon: Invalid signal: ${sig}\n`);
      assertNoRawText(r.stderr);
    }
    assert.equal((await store.ok(["inspect", "-f", "{{.State.Status}}", "sigbox"])).stdout.trim(), "running");
    // Names in any case, with or without SIG, real-time ones and numbers go through.
    for (const sig of ["usr1", "SIGUSR2", "RTMIN+3", "10"]) await store.ok(["kill", "-s", sig, "sigbox"]);
    await store.ok(["rm", "-f", "sigbox"]);
  });

  test("run --stop-signal BOGUS is refused before anything is created", async () => {
    const before = await count();
    const r = await store.berth(["run", "--rm", "--stop-signal", "BOGUS", "busybox", "true"]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Invalid signal: BOGUS\n$/);
    assert.equal(await count(), before);
  });
});

describe("create exits as Docker's", () => {
  test("what the engine refuses is exit 1 with the daemon's words; bad flags are 125", async () => {
    await store.ok(["create", "--name", "taken", "busybox"]);
    const dup = await store.berth(["create", "--name", "taken", "busybox"]);
    assert.equal(dup.code, 1);
    assert.match(
      dup.stderr,
      /^Error response from daemon: Conflict\. The container name "\/taken" is already in use/,
    );
    const badFlag = await store.berth(["create", "--cpus", "lots", "busybox"]);
    assert.equal(badFlag.code, 125);
    const cidfile = store.path("cid");
    await writeFile(cidfile, "old\n");
    const before = await count();
    const cid = await store.berth(["create", "--cidfile", cidfile, "busybox"]);
    assert.equal(cid.code, 1);
    assert.equal(
      cid.stderr,
      `container ID file found, make sure the other container isn't running or delete ${cidfile}\n`,
    );
    assert.equal(await count(), before);
    await store.ok(["rm", "taken"]);
  });
});

describe("Node's errno texts", () => {
  test("missing files and directories are named as Go names them", async () => {
    const label = await store.berth(["create", "--label-file", "/nonexistent/labels", "busybox"]);
    assert.equal(label.code, 125);
    assert.match(label.stderr, /open \/nonexistent\/labels: no such file or directory\n$/);
    assertNoRawText(label.stderr);
    const save = await store.berth(["save", "-o", "/nonexistent/dir/out.tar", "busybox"]);
    assert.equal(save.code, 1);
    assert.equal(
      save.stderr,
      'Error: failed to save image: invalid output path: directory "/nonexistent/dir" does not exist\n',
    );
    await store.ok(["create", "--name", "exp", "busybox"]);
    const exp = await store.berth(["export", "-o", "/nonexistent/dir/out.tar", "exp"]);
    assert.equal(exp.code, 1);
    assert.match(
      exp.stderr,
      /failed to export container: invalid output path: directory "\/nonexistent\/dir" does not exist/,
    );
    await store.ok(["rm", "exp"]);
  });
});
