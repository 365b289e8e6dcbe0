/**
 * berth's arguments are berth's alone: none reaches Node's own option parser (Node 20 reads
 * `--env-file` anywhere on its command line), and an env file meant for a container never changes
 * berth's own process. Env files are read as Docker's CLI reads them.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
  await store.ok(["run", "-d", "--name", "box", "--network", "none", "busybox", "sleep", "1000"]);
});
after(async () => {
  await store.cleanup();
});

async function containerCount(): Promise<number> {
  return (await store.ok(["ps", "-aq"])).stdout.split("\n").filter(Boolean).length;
}

describe("no argument reaches Node's option parser", () => {
  test("--env-file naming a missing file is berth's error, not Node's", async () => {
    const before = await containerCount();
    const r = await store.berth(["run", "--rm", "--env-file", store.path("missing"), "busybox", "env"]);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, `berth: Error: open ${store.path("missing")}: no such file or directory\n`);
    assert.equal(await containerCount(), before);
  });

  test("--env-file=… as the container's own argument is passed to it", async () => {
    const r = await store.berth([
      "run",
      "--rm",
      "--network",
      "none",
      "busybox",
      "echo",
      "--env-file=x",
      "--",
      "--env-file",
    ]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "--env-file=x -- --env-file\n");
    const e = await store.berth(["exec", "box", "echo", "--env-file", "y"]);
    assert.equal(e.code, 0);
    assert.equal(e.stdout, "--env-file y\n");
  });

  test("NODE_OPTIONS in a container's env file reaches the container and leaves berth alone", async () => {
    const file = store.path("node-options.env");
    // Either option would stop berth's own Node process at once if it were applied there.
    await writeFile(file, "FOO=bar\nNODE_OPTIONS=--max-old-space-size=1 --require /nonexistent.js\n");
    const r = await store.berth(["run", "--rm", "--network", "none", "--env-file", file, "busybox", "env"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const lines = r.stdout.split("\n");
    assert.ok(lines.includes("FOO=bar"), r.stdout);
    assert.ok(lines.includes("NODE_OPTIONS=--max-old-space-size=1 --require /nonexistent.js"), r.stdout);
    const e = await store.berth(["exec", "--env-file", file, "box", "env"]);
    assert.equal(e.code, 0);
    assert.ok(e.stdout.split("\n").includes("FOO=bar"), e.stdout);
  });
});

describe("env files as Docker reads them", () => {
  test("`export X=1` is refused with Docker's message, and nothing is created", async () => {
    const file = store.path("export.env");
    await writeFile(file, "A=1\nexport X=1\n");
    const before = await containerCount();
    for (const args of [
      ["run", "--rm", "--env-file", file, "busybox", "env"],
      ["create", "--env-file", file, "busybox", "env"],
    ]) {
      const r = await store.berth(args);
      assert.equal(r.code, 125, args.join(" "));
      assert.equal(
        r.stderr,
        "berth: Error: poorly formatted environment: variable 'export X' contains whitespaces\n",
      );
    }
    assert.equal(await containerCount(), before);
    const e = await store.berth(["exec", "--env-file", file, "box", "env"]);
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, /poorly formatted environment: variable 'export X' contains whitespaces/);
  });

  test("values pass through untouched; comments, blank lines and CRLF endings as Docker's", async () => {
    const file = store.path("values.env");
    await writeFile(file, '\ufeffQ="quoted" \r\n# comment\n\n   LEAD=1\nPASSED\nUNSET_HERE\nEQ=a=b');
    const r = await store.berth(["run", "--rm", "--network", "none", "--env-file", file, "busybox", "env"], {
      env: { PASSED: "from-cli" },
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    for (const want of ['Q="quoted" ', "LEAD=1", "PASSED=from-cli", "EQ=a=b"])
      assert.ok(lines.includes(want), want);
    assert.ok(!lines.some((l) => l.startsWith("UNSET_HERE")), r.stdout);
  });

  test("label files follow the same rules", async () => {
    const file = store.path("labels");
    await writeFile(file, "a=1\n# c\nflag\n");
    const id = (await store.ok(["create", "--label-file", file, "busybox", "true"])).stdout.trim();
    const r = await store.ok([
      "inspect",
      "--format",
      '{{index .Config.Labels "a"}}|{{index .Config.Labels "flag"}}|{{len .Config.Labels}}',
      id,
    ]);
    // The busybox image's own label is the third.
    assert.equal(r.stdout, "1||3\n");
    await store.ok(["rm", id]);
    await writeFile(file, "my label=1\n");
    const bad = await store.berth(["create", "--label-file", file, "busybox", "true"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /variable 'my label' contains whitespaces/);
  });
});
