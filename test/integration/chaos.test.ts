/**
 * Crash consistency by chance. Round after round, one berth operation (run -d, rm -f, build,
 * pull, commit, load, tag, rmi, volume create/rm, network connect) is started and its process
 * group killed with SIGKILL after a random delay. Then the ordinary commands must work (ps -a,
 * images, system df), the same operation must succeed when repeated, and its name must be
 * reusable. At the end, after removing everything, no mount, network namespace, conmon or runc
 * state of the store may be left.
 *
 * Seeded: BERTH_CHAOS_SEED replays a run (the seed is printed), BERTH_CHAOS_ROUNDS sets its
 * length (a short run in `npm test`; `npm run test:chaos` runs 200).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BERTH, type RunResult, runProgram, Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";

const ROUNDS = Number(process.env.BERTH_CHAOS_ROUNDS ?? "12");
const SEED = Number(process.env.BERTH_CHAOS_SEED ?? String(Date.now() % 1_000_000));

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let store: Store;
let registry: TestRegistry;
let remote: string;
let archive: string;
let context: string;

before(async () => {
  store = await Store.create();
  await store.busybox();
  registry = await startRegistry(store.path("registry"));
  // An image the store does not have, so that every pull downloads a layer.
  context = store.path("ctx");
  await mkdir(context, { recursive: true });
  await writeFile(join(context, "blob.bin"), randomBytes(6 << 20));
  await writeFile(
    join(context, "Dockerfile"),
    "FROM busybox\nCOPY blob.bin /blob.bin\nRUN echo built > /built\n",
  );
  remote = `${registry.host}/chaos/remote:1`;
  await store.ok(["build", "-q", "-t", remote, context]);
  await store.ok(["push", remote]);
  archive = store.path("load.tar");
  await store.ok(["save", "-o", archive, remote]);
  await store.ok(["rmi", remote]);
  await writeFile(join(context, "Dockerfile"), "FROM busybox\nRUN echo $RANDOM > /r\nCOPY blob.bin /b\n");
  await store.ok(["network", "create", "chaosnet"]);
  await store.ok(["run", "-d", "--name", "keeper", "busybox", "sleep", "100000"]);
});

after(async () => {
  await registry?.stop();
  await store?.cleanup();
});

/** Runs berth in a process group of its own and kills the group after `delay` ms if still running. */
function killedAfter(args: readonly string[], delay: number): Promise<RunResult & { killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BERTH, ["--root", store.root, "--runroot", store.runroot, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...store.env },
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    let killed = false;
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.pid !== undefined) {
        killed = true;
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // exited meanwhile
        }
      }
    }, delay);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const buf = Buffer.concat(out);
      resolve({
        code: code ?? -1,
        stdout: buf.toString(),
        stderr: Buffer.concat(err).toString(),
        out: buf,
        killed,
      });
    });
  });
}

/** An operation: what is killed, then what must succeed afterwards. */
interface Op {
  name: string;
  setup?: () => Promise<void>;
  args: string[];
  settle: () => Promise<void>;
}

async function ok(args: string[], label: string): Promise<RunResult> {
  const r = await store.berth(args);
  assert.equal(r.code, 0, `${label}: berth ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Succeeds, or fails only because the object is not there (the killed run may or may not have made it). */
async function okOrMissing(args: string[], label: string): Promise<void> {
  const r = await store.berth(args);
  if (r.code === 0) return;
  assert.match(
    r.stderr,
    /No such|not found|is not connected/i,
    `${label}: berth ${args.join(" ")}: ${r.stderr}`,
  );
}

function operations(n: number, label: string): Op[] {
  const c = `c${n}`;
  return [
    {
      name: "run -d",
      args: ["run", "-d", "--name", c, "busybox", "sleep", "1000"],
      settle: async () => {
        await okOrMissing(["rm", "-f", c], label);
        await ok(["run", "-d", "--name", c, "busybox", "sleep", "1000"], label);
        await ok(["rm", "-f", c], label);
      },
    },
    {
      name: "rm -f",
      setup: async () => {
        await ok(["run", "-d", "--name", c, "busybox", "sleep", "1000"], label);
      },
      args: ["rm", "-f", c],
      settle: async () => {
        await okOrMissing(["rm", "-f", c], label);
        const left = await ok(["ps", "-aq", "--filter", `name=^${c}$`], label);
        assert.equal(left.stdout, "", `${label}: ${c} still listed`);
        await ok(["create", "--name", c, "busybox"], label);
        await ok(["rm", c], label);
      },
    },
    {
      name: "build",
      args: ["build", "-q", "--no-cache", "-t", `chaos:b${n}`, context],
      settle: async () => {
        await ok(["build", "-q", "--no-cache", "-t", `chaos:b${n}`, context], label);
        await ok(["rmi", `chaos:b${n}`], label);
      },
    },
    {
      name: "pull",
      args: ["pull", "-q", remote],
      settle: async () => {
        await ok(["pull", "-q", remote], label);
        await ok(["rmi", remote], label);
      },
    },
    {
      name: "commit",
      args: ["commit", "keeper", `chaos:c${n}`],
      settle: async () => {
        await ok(["commit", "keeper", `chaos:c${n}`], label);
        await ok(["rmi", `chaos:c${n}`], label);
        const st = await ok(["inspect", "-f", "{{.State.Status}}", "keeper"], label);
        assert.equal(st.stdout.trim(), "running", `${label}: keeper after commit`);
      },
    },
    {
      name: "load",
      args: ["load", "-q", "-i", archive],
      settle: async () => {
        await ok(["load", "-q", "-i", archive], label);
        await ok(["rmi", remote], label);
      },
    },
    {
      name: "tag",
      args: ["tag", "busybox", `chaos:t${n}`],
      settle: async () => {
        await ok(["tag", "busybox", `chaos:t${n}`], label);
        await ok(["rmi", `chaos:t${n}`], label);
      },
    },
    {
      name: "rmi",
      setup: async () => {
        await ok(["tag", "busybox", `chaos:t${n}`], label);
      },
      args: ["rmi", `chaos:t${n}`],
      settle: async () => {
        await okOrMissing(["rmi", `chaos:t${n}`], label);
        await ok(["tag", "busybox", `chaos:t${n}`], label);
        await ok(["rmi", `chaos:t${n}`], label);
      },
    },
    {
      name: "volume create",
      args: ["volume", "create", `v${n}`],
      settle: async () => {
        await okOrMissing(["volume", "rm", `v${n}`], label);
        await ok(["volume", "create", `v${n}`], label);
        await ok(["volume", "rm", `v${n}`], label);
      },
    },
    {
      name: "volume rm",
      setup: async () => {
        await ok(["volume", "create", `v${n}`], label);
      },
      args: ["volume", "rm", `v${n}`],
      settle: async () => {
        await okOrMissing(["volume", "rm", `v${n}`], label);
        await ok(["volume", "create", `v${n}`], label);
        await ok(["volume", "rm", `v${n}`], label);
      },
    },
    {
      name: "network connect",
      args: ["network", "connect", "chaosnet", "keeper"],
      settle: async () => {
        await okOrMissing(["network", "disconnect", "chaosnet", "keeper"], label);
        await ok(["network", "connect", "chaosnet", "keeper"], label);
        await ok(["network", "disconnect", "chaosnet", "keeper"], label);
      },
    },
  ];
}

test(`${ROUNDS} rounds of operations killed with SIGKILL leave a working store (seed ${SEED})`, async () => {
  process.stdout.write(`# chaos: seed ${SEED}, ${ROUNDS} rounds (replay with BERTH_CHAOS_SEED=${SEED})\n`);
  const r = rng(SEED);
  let killed = 0;
  for (let n = 0; n < ROUNDS; n++) {
    const ops = operations(n, "");
    const pickOp = ops[Math.floor(r() * ops.length)]!;
    const delay = Math.floor(r() * 2500);
    const label = `seed ${SEED} round ${n} (${pickOp.name}, killed after ${delay} ms)`;
    const op = operations(n, label).find((o) => o.name === pickOp.name)!;
    await op.setup?.();
    const res = await killedAfter(op.args, delay);
    if (res.killed) killed++;
    if (process.env.BERTH_CHAOS_VERBOSE === "1") {
      process.stdout.write(
        `# round ${n}: ${op.name} ${res.killed ? `killed after ${delay} ms` : `exited ${res.code}`}\n`,
      );
    }
    for (const args of [["ps", "-a"], ["images"], ["system", "df"]]) await ok(args, label);
    await op.settle();
  }
  process.stdout.write(`# chaos: ${killed} of ${ROUNDS} operations were killed mid-way\n`);

  // Remove everything; nothing of the store may be left on the host.
  await ok(["rm", "-f", "keeper"], "final");
  const left = await ok(["ps", "-aq"], "final");
  assert.equal(left.stdout, "", "containers left");
  await ok(["network", "rm", "chaosnet"], "final");
  await ok(["volume", "prune", "-f", "--all"], "final");
  await ok(["image", "prune", "-a", "-f"], "final");
  const images = await ok(["images", "-q"], "final");
  assert.equal(images.stdout, "", "images left");
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  const mounts = mountinfo.split("\n").filter((l) => l.includes(` ${store.dir}/`));
  assert.deepEqual(mounts, [], "mounts left");
  const netns = await readdir(join(store.runroot, "netns")).catch(() => [] as string[]);
  assert.deepEqual(netns, [], "network namespaces left");
  const runc = await runProgram("runc", ["--root", join(store.runroot, "runc"), "list", "-q"]);
  assert.equal(runc.stdout.trim(), "", "runc containers left");
  const procs = await runProgram("sh", [
    "-c",
    `grep -l -s -F -- '${store.runroot}' /proc/[0-9]*/cmdline || true`,
  ]);
  const conmons: string[] = [];
  for (const f of procs.stdout.split("\n").filter(Boolean)) {
    const cmd = await readFile(f, "utf8").catch(() => "");
    if (cmd.startsWith("conmon") || cmd.includes("/conmon\0")) conmons.push(cmd.replaceAll("\0", " "));
  }
  assert.deepEqual(conmons, [], "conmon processes left");
});
