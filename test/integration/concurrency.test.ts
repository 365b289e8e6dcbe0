/**
 * Many berth processes acting on one store at once, as `berth serve`, conmon's exit commands and
 * several CLIs do: racing verbs on the same container each get Docker's answer, and afterwards no
 * container is in a state its process contradicts and nothing is left behind (overlay mounts,
 * network namespaces, runc state, conmon processes).
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { type RunResult, runProgram, Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

/** Waits for a condition (the shared poller, with this file's default timeout). */
const until = (what: string, fn: () => Promise<boolean>, ms = 30_000) => waitFor(what, fn, ms);

/** A process that ends at once on SIGTERM (sh as PID 1 with a trap), so stops are quick. */
const SERVER = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];

/** Runs every command at once. */
function race(commands: ReadonlyArray<readonly string[]>): Promise<RunResult[]> {
  return Promise.all(commands.map((c) => store.berth(c)));
}

async function createContainer(name: string, args: readonly string[] = SERVER): Promise<string> {
  return (await store.ok(["create", "--name", name, "busybox", ...args])).stdout.trim();
}

async function inspectState(
  ref: string,
): Promise<{ Status: string; Running: boolean; Pid: number } | undefined> {
  const r = await store.berth(["inspect", "--format", "{{json .State}}", ref]);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as { Status: string; Running: boolean; Pid: number };
}

/** Every process whose command line mentions this store's runroot, by kind. */
async function storeProcesses(): Promise<{ conmon: string[]; cleanup: number }> {
  const conmon: string[] = [];
  let cleanup = 0;
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (!argv.includes(store.runroot)) continue;
    if (argv[0]?.endsWith("conmon")) {
      const i = argv.indexOf("-c");
      conmon.push(argv[i + 1] ?? "");
    } else if (argv.includes("cleanup") && argv.includes("container")) cleanup++;
  }
  return { conmon, cleanup };
}

/** runc's containers in this store's runc root: id → status. */
async function runcStates(): Promise<Map<string, string>> {
  const r = await runProgram("runc", ["--root", join(store.runroot, "runc"), "list", "--format", "json"]);
  const out = new Map<string, string>();
  const list: unknown = JSON.parse(r.stdout.trim() || "null");
  if (Array.isArray(list)) {
    for (const c of list as Array<{ id: string; status: string }>) out.set(c.id, c.status);
  }
  return out;
}

async function mountedRootfs(): Promise<Set<string>> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const out = new Set<string>();
  const prefix = `${join(store.root, "containers")}/`;
  for (const line of info.split("\n")) {
    const target = line.split(" ")[4] ?? "";
    if (target.startsWith(prefix) && target.endsWith("/merged"))
      out.add(target.slice(prefix.length, -"/merged".length));
  }
  return out;
}

/**
 * Waits for exit commands to finish, then checks that every container's record agrees with its
 * process and that nothing is left of containers that do not run (or no longer exist).
 */
async function assertConsistent(): Promise<void> {
  await until("the exit commands to finish", async () => (await storeProcesses()).cleanup === 0);
  const ps = await store.ok(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]);
  const states = new Map(
    ps.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ") as [string, string]),
  );
  const runc = await runcStates();
  const mounts = await mountedRootfs();
  const netns = new Set(await readdir(join(store.runroot, "netns")).catch(() => [] as string[]));
  const { conmon } = await storeProcesses();
  const live = (id: string) => states.get(id) === "running" || states.get(id) === "paused";
  for (const [id, state] of states) {
    if (live(id)) {
      assert.ok(runc.has(id), `${id} is ${state} but runc does not know it`);
      assert.ok(conmon.includes(id), `${id} is ${state} but has no conmon`);
      const s = await inspectState(id);
      assert.ok(s && s.Pid > 0, `${id} is ${state} without a PID`);
      await stat(`/proc/${s.Pid}`);
    } else {
      assert.ok(!runc.has(id), `${id} is ${state} but runc still has it (${runc.get(id)})`);
      assert.ok(!mounts.has(id), `${id} is ${state} but its root filesystem is still mounted`);
      assert.ok(!netns.has(id), `${id} is ${state} but its network namespace is still there`);
      assert.ok(!conmon.includes(id), `${id} is ${state} but its conmon still runs`);
    }
  }
  for (const id of runc.keys()) assert.ok(live(id), `runc state of ${id} without a live container`);
  for (const id of mounts) assert.ok(live(id), `root filesystem of ${id} mounted without a live container`);
  for (const id of netns) assert.ok(live(id), `network namespace ${id} without a live container`);
  for (const id of conmon) assert.ok(live(id), `conmon of ${id} without a live container`);
  const dirs = (await readdir(join(store.root, "containers")).catch(() => [] as string[])).filter(
    (d) => !d.startsWith("."),
  );
  for (const d of dirs) assert.ok(states.has(d), `container directory ${d} without a record`);
}

const N = 10;

describe("racing verbs on one container", () => {
  test(`${N} starts of one created container: it runs once and every start succeeds`, async () => {
    for (let round = 0; round < 3; round++) {
      const id = await createContainer(`ss${round}`);
      const results = await race(Array.from({ length: N }, () => ["start", `ss${round}`]));
      for (const r of results) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), `ss${round}`);
      }
      assert.equal((await inspectState(id))?.Status, "running");
      const { conmon } = await storeProcesses();
      assert.equal(conmon.filter((c) => c === id).length, 1, "one conmon for the container");
    }
    await assertConsistent();
  });

  test("starts and stops at once: the container ends in one state that matches its process", async () => {
    const id = await createContainer("sst");
    for (let round = 0; round < 3; round++) {
      const cmds = Array.from({ length: N }, (_, i) =>
        i % 2 === 0 ? ["start", "sst"] : ["stop", "-t", "5", "sst"],
      );
      const results = await race(cmds);
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      await assertConsistent();
    }
    await store.ok(["rm", "-f", id]);
  });

  test("stops and rm -f at once: the container is gone, each stop either stopped it or found it gone", async () => {
    await createContainer("srm");
    await store.ok(["start", "srm"]);
    const cmds = Array.from({ length: N }, (_, i) =>
      i % 2 === 0 ? ["stop", "-t", "5", "srm"] : ["rm", "-f", "srm"],
    );
    const results = await race(cmds);
    for (const [i, r] of results.entries()) {
      if (r.code !== 0)
        assert.match(r.stderr, /No such container: srm/, `${cmds[i]?.join(" ")}: ${r.stderr}`);
    }
    assert.ok(
      results.some((r, i) => r.code === 0 && cmds[i]?.[0] === "rm"),
      "one rm -f removed it",
    );
    assert.equal((await store.berth(["inspect", "srm"])).code, 1);
    await assertConsistent();
  });

  test("rm and rm -f at once: one removes, the others say No such container", async () => {
    await createContainer("rr1", ["true"]);
    const plain = await race(Array.from({ length: N }, () => ["rm", "rr1"]));
    assert.equal(plain.filter((r) => r.code === 0).length, 1, plain.map((r) => r.stderr).join(""));
    for (const r of plain.filter((x) => x.code !== 0)) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /No such container: rr1/);
    }
    await createContainer("rr2");
    await store.ok(["start", "rr2"]);
    const forced = await race(Array.from({ length: N }, () => ["rm", "-f", "rr2"]));
    // Docker's CLI ignores "No such container" for rm -f; the engine still says so.
    for (const r of forced) if (r.code !== 0) assert.match(r.stderr, /No such container: rr2/);
    assert.ok(forced.some((r) => r.code === 0 && r.stdout.trim() === "rr2"));
    assert.equal((await store.berth(["inspect", "rr2"])).code, 1);
    await assertConsistent();
  });

  test("kill and restart at once: the container ends running or exited, as its process is", async () => {
    const id = await createContainer("kr");
    await store.ok(["start", "kr"]);
    const cmds = Array.from({ length: N }, (_, i) =>
      i % 2 === 0 ? ["kill", "kr"] : ["restart", "-t", "5", "kr"],
    );
    const results = await race(cmds);
    for (const [i, r] of results.entries()) {
      // A kill that comes while the container is stopped between a restart's stop and start
      // is refused as Docker refuses it.
      if (r.code !== 0) {
        assert.equal(cmds[i]?.[0], "kill", r.stderr);
        assert.match(r.stderr, /is not running/);
      }
    }
    await assertConsistent();
    await store.ok(["rm", "-f", id]);
    await assertConsistent();
  });

  test("exec and rm -f at once: execs run or are refused, nothing of the container remains", async () => {
    await createContainer("er");
    await store.ok(["start", "er"]);
    const cmds = Array.from({ length: N }, (_, i) =>
      i === N / 2 ? ["rm", "-f", "er"] : ["exec", "er", "true"],
    );
    const results = await race(cmds);
    for (const [i, r] of results.entries()) {
      if (cmds[i]?.[0] === "rm") assert.equal(r.code, 0, r.stderr);
      else if (r.code !== 0) assert.match(r.stderr, /No such container: er|is not running/, r.stderr);
    }
    assert.equal((await store.berth(["inspect", "er"])).code, 1);
    await assertConsistent();
  });

  test("renames at once: one rename of a container wins, one holder of a new name wins", async () => {
    await createContainer("rn", ["true"]);
    const results = await race(Array.from({ length: N }, (_, i) => ["rename", "rn", `rn-${i}`]));
    assert.equal(results.filter((r) => r.code === 0).length, 1);
    for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /No such container: rn/);
    const names = Array.from({ length: N }, (_, i) => `rt-${i}`);
    for (const n of names) await createContainer(n, ["true"]);
    const taken = await race(names.map((n) => ["rename", n, "rt-winner"]));
    assert.equal(taken.filter((r) => r.code === 0).length, 1);
    for (const r of taken.filter((x) => x.code !== 0)) assert.match(r.stderr, /is already in use/);
    await assertConsistent();
  });
});

describe("many processes on one store", () => {
  test("run --rm and ps at once: every run succeeds, ps never fails, nothing is left", async () => {
    const before = (await store.ok(["ps", "-aq", "--no-trunc"])).stdout;
    const cmds: string[][] = [];
    for (let i = 0; i < 20; i++) cmds.push(["run", "--rm", "busybox", "true"]);
    for (let i = 0; i < 10; i++) cmds.push(["ps", "-a"]);
    const results = await race(cmds);
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${cmds[i]?.join(" ")}: ${r.stderr}`);
    await assertConsistent();
    assert.equal((await store.ok(["ps", "-aq", "--no-trunc"])).stdout, before, "run --rm left a container");
  });
});
