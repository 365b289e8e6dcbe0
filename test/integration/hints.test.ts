/**
 * What rm, prune and rmi say on stderr about users' data, through the real bin/berth: the files
 * a writable layer loses, the anonymous volumes kept, the containers holding an image. stdout and
 * exit codes are the same with the hints silenced (BERTH_HINTS=0).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Store } from "./harness.js";

const QUIET = { env: { BERTH_HINTS: "0" } };

describe("hints about users' data", () => {
  let store: Store;
  before(async () => {
    store = await Store.create();
    await store.busybox();
  });
  after(async () => {
    await store.cleanup();
  });

  it("rm warns of a file in the writable layer, with how to keep it; BERTH_HINTS=0 silences it", async () => {
    await store.ok(["run", "--name", "w1", "busybox", "sh", "-c", "echo notes > /root-notes.txt"]);
    const r = await store.berth(["rm", "w1"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "w1\n");
    assert.match(
      r.stderr,
      /removed w1: 1 changed file \(\d+B\) of its writable layer are lost: \/root-notes\.txt/,
    );
    assert.match(r.stderr, /berth commit w1 IMAGE/);
    assert.match(r.stderr, /berth cp w1:\/root-notes\.txt \./);
    assert.match(r.stderr, /-v NAME:\//);

    await store.ok(["run", "--name", "w2", "busybox", "sh", "-c", "echo notes > /root-notes.txt"]);
    const q = await store.berth(["rm", "w2"], QUIET);
    assert.deepEqual([q.code, q.stdout, q.stderr], [0, "w2\n", ""]);
  });

  it("rm says nothing when only a volume was written, and rm -f of an unchanged container is quiet", async () => {
    await store.ok(["volume", "create", "hdata"]);
    await store.ok([
      "run",
      "--name",
      "v1",
      "-v",
      "hdata:/data/deep",
      "busybox",
      "sh",
      "-c",
      "echo x > /data/deep/f",
    ]);
    const r = await store.berth(["rm", "v1"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "v1\n", ""]);
    await store.ok(["run", "-d", "--name", "v2", "busybox", "sleep", "60"]);
    const f = await store.berth(["rm", "-f", "v2"]);
    assert.deepEqual([f.code, f.stdout, f.stderr], [0, "v2\n", ""]);
  });

  it("rm without -v says the anonymous volume remains and how to remove it; with -v nothing", async () => {
    await store.ok(["run", "--name", "a1", "-v", "/cache", "busybox", "true"]);
    const vol = (await store.ok(["inspect", "-f", "{{(index .Mounts 0).Name}}", "a1"])).stdout.trim();
    const r = await store.berth(["rm", "a1"]);
    assert.deepEqual([r.code, r.stdout], [0, "a1\n"]);
    assert.match(r.stderr, new RegExp(`anonymous volume remains: ${vol.slice(0, 12)} \\(/cache\\)`));
    assert.match(r.stderr, new RegExp(`berth volume rm ${vol}`));
    assert.match(r.stderr, /berth rm -v a1/);
    const ls = await store.ok(["volume", "ls", "-q"]);
    assert.ok(ls.stdout.split("\n").includes(vol)); // as the note says: it is still there
    await store.ok(["volume", "rm", vol]);

    await store.ok(["run", "--name", "a2", "-v", "/cache", "busybox", "true"]);
    const v = await store.berth(["rm", "-v", "a2"]);
    assert.deepEqual([v.code, v.stdout, v.stderr], [0, "a2\n", ""]);

    await store.ok(["run", "--name", "a3", "-v", "/cache", "busybox", "true"]);
    const q = await store.berth(["rm", "a3"], QUIET);
    assert.deepEqual([q.code, q.stdout, q.stderr], [0, "a3\n", ""]);
    await store.ok(["volume", "prune", "-f"]);
  });

  it("container prune summarises per container on stderr; stdout is unchanged", async () => {
    await store.ok(["run", "--name", "p1", "busybox", "sh", "-c", "echo a > /p1file"]);
    await store.ok(["run", "--name", "p2", "busybox", "true"]);
    const r = await store.berth(["container", "prune", "-f"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
    assert.match(r.stderr, /berth: p1: lost 1 changed file \(\d+B\): \/p1file/);
    assert.doesNotMatch(r.stderr, /p2/);
    await store.ok(["run", "--name", "p3", "busybox", "sh", "-c", "echo a > /p3file"]);
    const q = await store.berth(["container", "prune", "-f"], QUIET);
    assert.equal(q.code, 0);
    assert.equal(q.stderr, "");
  });

  it("rmi refused: lists both containers with their status and the command that frees it", async () => {
    await store.ok(["tag", "busybox", "held:1"]);
    await store.ok(["create", "--name", "h1", "held:1"]);
    await store.ok(["run", "-d", "--name", "h2", "held:1", "sleep", "60"]);
    await store.ok(["tag", "held:1", "held:2"]); // two tags: removing by ID is refused
    const id = (await store.ok(["inspect", "-f", "{{.Id}}", "held:1"])).stdout.trim();
    const r = await store.berth(["rmi", id]);
    const q = await store.berth(["rmi", id], QUIET);
    assert.equal(r.code, 1);
    assert.equal(q.code, 1);
    assert.equal(r.stdout, q.stdout);
    assert.match(r.stderr, /^Error response from daemon: conflict/);
    assert.match(r.stderr, /held by 2 containers:\n/);
    assert.match(r.stderr, /\n {4}h1 {2}\(Created\)\n/);
    assert.match(r.stderr, /\n {4}h2 {2}\(Up [^)]*\)\n/);
    assert.match(r.stderr, new RegExp(`to free it: berth rm -f h\\d h\\d && berth rmi ${id}\n`));
    assert.match(q.stderr, /^Error response from daemon: conflict[^\n]*\n$/);

    // -f untags while containers keep running on it, and says so.
    await store.ok(["rmi", "held:2"]);
    const f = await store.berth(["rmi", "-f", "held:1"]);
    assert.equal(f.code, 0);
    assert.equal(f.stdout, "Untagged: held:1\n");
    assert.match(
      f.stderr,
      /2 containers \(h\d h\d\) keep using image [0-9a-f]{12}; it is untagged, not deleted/,
    );
    const running = await store.ok(["inspect", "-f", "{{.State.Running}}", "h2"]);
    assert.equal(running.stdout.trim(), "true");
    await store.ok(["tag", id, "held:1"]);
    const fq = await store.berth(["rmi", "-f", "held:1"], QUIET);
    assert.deepEqual([fq.code, fq.stdout, fq.stderr], [0, "Untagged: held:1\n", ""]);
    await store.ok(["rm", "-f", "h1", "h2"], QUIET);
  });
});
