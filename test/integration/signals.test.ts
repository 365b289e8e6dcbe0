/**
 * Signal proxying through the real bin/berth: the signals a foreground `run`, `start -a` or
 * `attach` receives go to the container's process (`--sig-proxy`, on by default), a trap there
 * runs and its exit code comes back; `--sig-proxy=false` leaves them to berth; a container with a
 * terminal gets Ctrl-C through the terminal. Every step waits for what the container prints.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { errorMessage } from "../../src/base/errors.js";
import { BERTH, Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

/** A shell script for PID 1: a trap per signal (exit 100+n), "ready" once they are set, then ticks. */
const TRAPS: ReadonlyArray<readonly [string, number]> = [
  ["HUP", 1],
  ["INT", 2],
  ["QUIT", 3],
  ["USR1", 10],
  ["USR2", 12],
  ["ALRM", 14],
  ["TERM", 15],
  ["WINCH", 28],
];
const script = (traps: ReadonlyArray<readonly [string, number]>) =>
  `${traps.map(([s, n]) => `trap 'echo got ${s}; exit ${100 + n}' ${s}`).join("; ")}; echo ready; while :; do echo tick; sleep 0.2 & wait $!; done`;
const SCRIPT = script(TRAPS);
/**
 * For `-t` sessions: the CLI syncs the terminal's size once the container runs, which is a
 * SIGWINCH the container may get after "ready"; a WINCH trap that exits would race it.
 */
const TTY_SCRIPT = script(TRAPS.filter(([s]) => s !== "WINCH"));

interface Running {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once the output so far matches. */
  waitFor(what: RegExp): Promise<void>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(cmd: string, args: readonly string[]): Running {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...store.env } });
  let out = "";
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const onData = (d: Buffer) => {
    out += d.toString("utf8");
    check();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ re, resolve });
        check();
        void exit.then(() => reject(new Error(`exited before printing ${re}: ${out}`)));
        // A hang shows what was printed (the test's own timeout would not).
        const timer = setTimeout(() => reject(new Error(`no ${re} in 30 s: ${out}`)), 30_000);
        timer.unref();
      }),
    exit,
  };
}

/** `berth ARGS` on the test's store (through its server, as `berth -H`, in remote mode). */
const berth = (args: readonly string[]) => {
  const [cmd = BERTH, ...rest] = store.argv(args);
  return start(cmd, rest);
};

async function state(name: string): Promise<string> {
  return (
    await store.ok(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name])
  ).stdout.trim();
}

describe("a foreground run forwards the signals it receives", () => {
  for (const [sig, n] of TRAPS) {
    test(`SIG${sig}: the container's trap runs and its exit code comes back`, {
      timeout: 60_000,
    }, async () => {
      const r = berth(["run", "--rm", "--network", "none", "busybox", "sh", "-c", SCRIPT]);
      await r.waitFor(/ready/);
      r.child.kill(`SIG${sig}` as NodeJS.Signals);
      const { code, signal } = await r.exit;
      assert.equal(signal, null);
      assert.equal(code, 100 + n, r.output());
      assert.match(r.output(), new RegExp(`got ${sig}\n`));
    });
  }

  test("with -t too (Ctrl-C from a terminal would be a byte for the container)", {
    timeout: 60_000,
  }, async () => {
    const r = berth(["run", "--rm", "-t", "--network", "none", "busybox", "sh", "-c", SCRIPT]);
    await r.waitFor(/ready/);
    r.child.kill("SIGTERM");
    assert.equal((await r.exit).code, 115, r.output());
    assert.match(r.output(), /got TERM/);
  });

  test("--sig-proxy=false leaves the signal to berth; the container keeps running", {
    timeout: 60_000,
  }, async () => {
    const r = berth([
      "run",
      "--name",
      "noproxy",
      "--sig-proxy=false",
      "--network",
      "none",
      "busybox",
      "sh",
      "-c",
      SCRIPT,
    ]);
    await r.waitFor(/ready/);
    r.child.kill("SIGTERM");
    assert.equal((await r.exit).signal, "SIGTERM");
    assert.equal(await state("noproxy"), "running 0");
    assert.doesNotMatch((await store.ok(["logs", "noproxy"])).stdout, /got TERM/);
    await store.ok(["rm", "-f", "noproxy"]);
  });
});

describe("start -a and attach forward signals", () => {
  test("start -a: SIGTERM runs the trap; the exit code comes back", { timeout: 60_000 }, async () => {
    await store.ok(["create", "--name", "started", "--network", "none", "busybox", "sh", "-c", SCRIPT]);
    const r = berth(["start", "-a", "started"]);
    await r.waitFor(/ready/);
    r.child.kill("SIGTERM");
    assert.equal((await r.exit).code, 115, r.output());
    assert.match(r.output(), /got TERM/);
    assert.equal(await state("started"), "exited 115");
    await store.ok(["rm", "started"]);
  });

  test("start -a of a container with a terminal does not proxy (Docker's CLI)", {
    timeout: 60_000,
  }, async () => {
    await store.ok([
      "create",
      "-t",
      "--name",
      "tty-started",
      "--network",
      "none",
      "busybox",
      "sh",
      "-c",
      SCRIPT,
    ]);
    const r = berth(["start", "-a", "tty-started"]);
    await r.waitFor(/ready/);
    r.child.kill("SIGTERM");
    assert.equal((await r.exit).signal, "SIGTERM");
    assert.equal(await state("tty-started"), "running 0");
    await store.ok(["rm", "-f", "tty-started"]);
  });

  test("attach: SIGINT runs the trap; --sig-proxy=false does not", { timeout: 60_000 }, async () => {
    await store.ok(["run", "-d", "--name", "attached", "--network", "none", "busybox", "sh", "-c", SCRIPT]);
    const quiet = berth(["attach", "--sig-proxy=false", "attached"]);
    await quiet.waitFor(/tick/);
    quiet.child.kill("SIGINT");
    assert.equal((await quiet.exit).signal, "SIGINT");
    assert.equal(await state("attached"), "running 0");
    const r = berth(["attach", "attached"]);
    await r.waitFor(/tick/);
    r.child.kill("SIGINT");
    assert.equal((await r.exit).code, 102, r.output());
    assert.match(r.output(), /got INT/);
    assert.equal(await state("attached"), "exited 102");
    await store.ok(["rm", "attached"]);
  });
});

/**
 * Moments of a foreground `start -a` or `run` to send a signal at, each the first moment a
 * condition holds: the CLI just spawned; the container exists (`run` created it: its --cidfile is
 * written); runc has created its process (berth is starting it and has not recorded that yet);
 * the container's first output ("ready", which comes while berth is still finishing the start);
 * its later output ("tick"). The likeliest moments for a signal to meet the end of the start are
 * used more than once.
 */
type Moment = "at spawn" | "once created" | "once runc has it" | "at ready" | "at tick";
const MOMENTS: readonly Moment[] = [
  "at spawn",
  "once created",
  "once runc has it",
  "once runc has it",
  "once runc has it",
  "at ready",
  "at ready",
  "at ready",
  "at ready",
  "at tick",
];

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Resolves once `cond` holds, checked every few milliseconds; rejects if `r` ends first. */
async function until(r: Running, what: string, cond: () => Promise<boolean>): Promise<void> {
  let done = false;
  void r.exit.then(() => {
    done = true;
  });
  await waitFor(
    what,
    async () => {
      if (await cond()) return true;
      if (done) throw new Error(`berth ended before ${what}`);
      return false;
    },
    30_000,
    3,
  ).catch((err: unknown) => {
    throw new Error(`${errorMessage(err)}: ${r.output()}`);
  });
}

/** Sends `signal` to `r` at `moment` of starting the container whose ID `cidfile` holds. */
async function sendAt(r: Running, moment: Moment, cidfile: string, signal: NodeJS.Signals): Promise<void> {
  const id = async () => ((await exists(cidfile)) ? (await readFile(cidfile, "utf8")).trim() : "");
  if (moment === "once created") await until(r, "created", async () => (await id()) !== "");
  if (moment === "once runc has it") {
    await until(r, "known to runc", async () => {
      const i = await id();
      return i !== "" && exists(join(store.runroot, "runc", i, "state.json"));
    });
  }
  if (moment === "at ready") await r.waitFor(/ready/);
  if (moment === "at tick") await r.waitFor(/tick/);
  r.child.kill(signal);
}

/** How `r` ended; a berth still running 30 s after its signal is a failure that says so. */
function ended(r: Running, what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      r.child.kill("SIGKILL");
      reject(new Error(`berth still running 30 s after ${what}: ${r.output()}`));
    }, 30_000);
  });
  return Promise.race([r.exit, hung]).finally(() => clearTimeout(timer));
}

describe("a signal at any moment of the start acts on berth when nothing proxies it", () => {
  // Without proxying, a signal berth receives while the container starts is held until the start
  // is recorded, then takes its usual effect: SIGTERM ends berth, at whichever moment it came.
  // The container is left created (the signal came before its start) or running (after), or for
  // `run`, absent (before it was created). One container and one berth per moment, all at once.
  const race = async (
    prefix: string,
    prepare: (name: string, cidfile: string) => Promise<unknown>,
    args: (name: string, cidfile: string) => string[],
  ) => {
    const names = MOMENTS.map((_, i) => `${prefix}-${i}`);
    const cidfile = (name: string) => store.path(`${name}.cid`);
    await Promise.all(names.map((n) => prepare(n, cidfile(n))));
    const outcomes = await Promise.all(
      MOMENTS.map(async (moment, i) => {
        const name = names[i] as string;
        const r = berth(args(name, cidfile(name)));
        await sendAt(r, moment, cidfile(name), "SIGTERM");
        return { moment, output: r.output, ...(await ended(r, `SIGTERM ${moment}`)) };
      }),
    );
    for (const o of outcomes) {
      assert.equal(o.signal, "SIGTERM", `SIGTERM ${o.moment}: exit ${o.code}, output ${o.output()}`);
    }
    const listed = (await store.ok(["ps", "-a", "--format", "{{.Names}} {{.State}}"])).stdout;
    const present = names.filter((n) => listed.split("\n").some((l) => l.startsWith(`${n} `)));
    for (const n of present) assert.match(listed, new RegExp(`^${n} (created|running)$`, "m"), listed);
    if (present.length > 0) await store.ok(["rm", "-f", ...present]);
  };

  test("start -a of a container with a terminal: berth dies of SIGTERM", { timeout: 120_000 }, async () => {
    await race(
      "tty-race",
      (name, cidfile) =>
        store.ok([
          "create",
          "-t",
          "--name",
          name,
          "--cidfile",
          cidfile,
          "--network",
          "none",
          "busybox",
          "sh",
          "-c",
          SCRIPT,
        ]),
      (name) => ["start", "-a", name],
    );
  });

  test("run --sig-proxy=false: berth dies of SIGTERM", { timeout: 120_000 }, async () => {
    await race(
      "noproxy-race",
      async () => undefined,
      (name, cidfile) => [
        "run",
        "--name",
        name,
        "--cidfile",
        cidfile,
        "--sig-proxy=false",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        SCRIPT,
      ],
    );
  });
});

describe("-it: Ctrl-C goes through the container's terminal", () => {
  test("the byte reaches the terminal, whose SIGINT runs the trap", { timeout: 60_000 }, async () => {
    const line = [
      ...store.argv(["run", "--rm", "-it", "--network", "none", "busybox", "sh", "-c"]),
      `'${TTY_SCRIPT.replaceAll("'", `'\\''`)}'`,
    ].join(" ");
    const r = start("script", ["-qec", line, "/dev/null"]);
    await r.waitFor(/ready/);
    r.child.stdin?.write("\x03");
    assert.equal((await r.exit).code, 102, r.output());
    assert.match(r.output(), /got INT/);
  });
});
