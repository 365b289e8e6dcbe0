import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { execProgram } from "./exec.js";
import { LockDir } from "./lock.js";

const lockModuleUrl = new URL("./lock.js", import.meta.url).href;

/** Runs a Node ES module given as text; resolves with its exit code and output. */
function runNode(
  source: string,
  onLine?: (line: string) => void,
): { done: Promise<{ code: number | null; out: string; err: string }>; kill: () => void } {
  const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => {
    const text = c.toString("utf8");
    out += text;
    for (const line of text.split("\n")) if (line && onLine) onLine(line);
  });
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, out, err })),
  );
  return { done, kill: () => child.kill("SIGKILL") };
}

/** Another Node process that takes lock `id` of `<dir>/locks` and holds it until killed. */
async function holdInAnotherProcess(dir: string, id: string): Promise<ReturnType<typeof runNode>> {
  let held!: () => void;
  const isHeld = new Promise<void>((r) => {
    held = r;
  });
  const holder = runNode(
    `
    import { LockDir } from ${JSON.stringify(lockModuleUrl)};
    const locks = new LockDir(${JSON.stringify(join(dir, "locks"))});
    await locks.with(${JSON.stringify(id)}, async () => {
      console.log("held");
      await new Promise(() => setInterval(() => undefined, 1000));
    });
  `,
    (line) => {
      if (line === "held") held();
    },
  );
  await isHeld;
  return holder;
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "berth-lock-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("the lock excludes other processes: read-modify-write of a counter by 8 processes loses nothing", async () => {
  await withTempDir(async (dir) => {
    const counter = join(dir, "counter");
    await writeFile(counter, "0");
    const rounds = 5;
    const source = `
      import { readFile, writeFile } from "node:fs/promises";
      import { LockDir } from ${JSON.stringify(lockModuleUrl)};
      const locks = new LockDir(${JSON.stringify(join(dir, "locks"))});
      for (let i = 0; i < ${rounds}; i++) {
        await locks.with("c1", async () => {
          const n = Number(await readFile(${JSON.stringify(counter)}, "utf8"));
          // Widen the window between the read and the write: without the lock, others would
          // read the same value meanwhile.
          await new Promise((r) => setTimeout(r, 5));
          await writeFile(${JSON.stringify(counter)}, String(n + 1));
        });
      }
    `;
    const procs = Array.from({ length: 8 }, () => runNode(source));
    const results = await Promise.all(procs.map((p) => p.done));
    for (const r of results) assert.equal(r.code, 0, r.err);
    assert.equal(Number(await readFile(counter, "utf8")), 8 * rounds);
  });
});

test("a killed holder's lock is released", async () => {
  await withTempDir(async (dir) => {
    const locks = new LockDir(join(dir, "locks"));
    const holder = await holdInAnotherProcess(dir, "c1");
    // While the holder lives, the lock is taken (flock -n fails at once).
    const probe = await execProgram("flock", ["--nonblock", locks.pathOf("c1"), "true"]);
    assert.equal(probe.code, 1);
    holder.kill();
    await holder.done;
    const got = await locks.with("c1", async () => "acquired");
    assert.equal(got, "acquired");
  });
});

test("holders in one process queue, and the lock is re-entrant along one call chain", async () => {
  await withTempDir(async (dir) => {
    const locks = new LockDir(join(dir, "locks"));
    const log: string[] = [];
    const holder = (tag: string) =>
      locks.with("c1", async () => {
        log.push(`${tag}+`);
        await new Promise((r) => setImmediate(r));
        // Re-entrant: the same chain asks again and is not blocked by itself.
        await locks.with("c1", async () => log.push(`${tag}=`));
        log.push(`${tag}-`);
      });
    await Promise.all([holder("a"), holder("b"), holder("c")]);
    assert.deepEqual(log, ["a+", "a=", "a-", "b+", "b=", "b-", "c+", "c=", "c-"]);
    // Other names are independent.
    const other = await locks.with("c1", () => locks.with("c2", async () => "both"));
    assert.equal(other, "both");
  });
});

/**
 * Takes `name` on a chain of this process and keeps it until `release()`; resolves once held.
 * `first` settles when that chain has let go.
 */
async function holdInThisProcess(
  locks: LockDir,
  name: string,
): Promise<{ release: () => void; first: Promise<void> }> {
  let release!: () => void;
  const holding = new Promise<void>((r) => {
    release = r;
  });
  let inside!: () => void;
  const entered = new Promise<void>((r) => {
    inside = r;
  });
  const first = locks.with(name, async () => {
    inside();
    await holding;
  });
  await entered;
  return { release, first };
}

test("an aborted wait is Canceled, and the holder keeps the lock", async () => {
  await withTempDir(async (dir) => {
    const locks = new LockDir(join(dir, "locks"));
    const ac = new AbortController();
    const { release, first } = await holdInThisProcess(locks, "c1");
    const waiter = locks.with("c1", async () => "never", { signal: ac.signal });
    ac.abort();
    await assert.rejects(waiter, (err: unknown) => isBerthError(err, "Canceled"));
    const probe = await execProgram("flock", ["--nonblock", locks.pathOf("c1"), "true"]);
    assert.equal(probe.code, 1);
    release();
    await first;
    assert.equal(await locks.with("c1", async () => "next"), "next");
  });
});

test("tryWith runs only when the lock is free, in this process or another", async () => {
  await withTempDir(async (dir) => {
    const locks = new LockDir(join(dir, "locks"));
    assert.deepEqual(await locks.tryWith("c1", async () => 1), { acquired: true, value: 1 });
    // Held along this chain: re-entrant.
    const nested = await locks.with("c1", () => locks.tryWith("c1", async () => 2));
    assert.deepEqual(nested, { acquired: true, value: 2 });
    // Held by another chain of this process.
    const { release, first } = await holdInThisProcess(locks, "c1");
    assert.deepEqual(await locks.tryWith("c1", async () => 3), { acquired: false });
    release();
    await first;
    // Held by another process.
    const holder = await holdInAnotherProcess(dir, "c1");
    assert.deepEqual(await locks.tryWith("c1", async () => 4), { acquired: false });
    holder.kill();
    await holder.done;
    // The lock was the dead process's open file: gone with it, free at once.
    assert.deepEqual(await locks.tryWith("c1", async () => 5), { acquired: true, value: 5 });
  });
});

test("a held lock runs no helper process: it is this process's open file", async () => {
  await withTempDir(async (dir) => {
    const locks = new LockDir(join(dir, "locks"));
    const children = async () =>
      (await readFile(`/proc/${process.pid}/task/${process.pid}/children`, "utf8")).trim();
    await locks.with("c1", async () => {
      assert.equal(await children(), "");
      const fds = await readdir(`/proc/${process.pid}/fd`);
      const targets = await Promise.all(
        fds.map((fd) => readlink(`/proc/${process.pid}/fd/${fd}`).catch(() => "")),
      );
      assert.ok(targets.includes(join(dir, "locks", "c1")));
    });
    const fds = await readdir(`/proc/${process.pid}/fd`);
    const targets = await Promise.all(
      fds.map((fd) => readlink(`/proc/${process.pid}/fd/${fd}`).catch(() => "")),
    );
    assert.ok(!targets.includes(join(dir, "locks", "c1")), "released: the lock file is closed");
  });
});

test("a lock name must be a plain file name", () => {
  const locks = new LockDir("/nonexistent");
  assert.throws(
    () => locks.pathOf("../x"),
    (err: unknown) => isBerthError(err, "InvalidArgument"),
  );
});
