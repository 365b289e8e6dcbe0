/**
 * Signal proxying through the real bin/berth: the signals a foreground `run`, `start -a` or
 * `attach` receives go to the container's process (`--sig-proxy`, on by default), a trap there
 * runs and its exit code comes back; `--sig-proxy=false` leaves them to berth; a container with a
 * terminal gets Ctrl-C through the terminal. Every step waits for what the container prints.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
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

const berth = (args: readonly string[]) =>
  start(BERTH, ["--root", store.root, "--runroot", store.runroot, ...args]);

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
 * Moments to send a signal at, through the CLI's start-up, the container's start and its first
 * output: right at spawn, after each of these delays, and once the container printed "ready".
 * The delays are not waits for anything: whichever moment the signal lands in, the outcome
 * asserted is the same, and spreading them makes it land in different phases of the start.
 * "ready" comes while berth is still finishing the start (recording it, then leaving the signals
 * it held to take effect): the likeliest moment for a signal to meet that, so it is used several
 * times.
 */
const MOMENTS: ReadonlyArray<number | RegExp> = [
  0,
  100,
  250,
  400,
  600,
  900,
  1300,
  /ready/,
  /ready/,
  /ready/,
  /ready/,
];

async function sendAt(r: Running, moment: number | RegExp, signal: NodeJS.Signals): Promise<void> {
  if (typeof moment === "number") {
    if (moment > 0) await new Promise((resolve) => setTimeout(resolve, moment));
  } else {
    await r.waitFor(moment);
  }
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
    name: (i: number) => string,
    prepare: (name: string) => Promise<unknown>,
    args: (name: string) => string[],
  ) => {
    const names = MOMENTS.map((_, i) => name(i));
    await Promise.all(names.map(prepare));
    const outcomes = await Promise.all(
      MOMENTS.map(async (moment, i) => {
        const r = berth(args(names[i] as string));
        await sendAt(r, moment, "SIGTERM");
        return { moment, output: r.output, ...(await ended(r, `SIGTERM at ${moment}`)) };
      }),
    );
    for (const o of outcomes) {
      assert.equal(o.signal, "SIGTERM", `signal at ${o.moment}: exit ${o.code}, output ${o.output()}`);
    }
    const listed = (await store.ok(["ps", "-a", "--format", "{{.Names}} {{.State}}"])).stdout;
    for (const n of names) {
      const line = listed.split("\n").find((l) => l.startsWith(`${n} `));
      if (line !== undefined) assert.match(line, /^\S+ (created|running)$/, listed);
    }
    await store.ok(["rm", "-f", ...names.filter((n) => listed.includes(`${n} `))]);
  };

  test("start -a of a container with a terminal: berth dies of SIGTERM", { timeout: 120_000 }, async () => {
    await race(
      (i) => `tty-race-${i}`,
      (name) =>
        store.ok(["create", "-t", "--name", name, "--network", "none", "busybox", "sh", "-c", SCRIPT]),
      (name) => ["start", "-a", name],
    );
  });

  test("run --sig-proxy=false: berth dies of SIGTERM", { timeout: 120_000 }, async () => {
    await race(
      (i) => `noproxy-race-${i}`,
      async () => undefined,
      (name) => [
        "run",
        "--name",
        name,
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
      BERTH,
      "--root",
      store.root,
      "--runroot",
      store.runroot,
      "run",
      "--rm",
      "-it",
      "--network",
      "none",
      "busybox",
      "sh",
      "-c",
      `'${TTY_SCRIPT.replaceAll("'", `'\\''`)}'`,
    ].join(" ");
    const r = start("script", ["-qec", line, "/dev/null"]);
    await r.waitFor(/ready/);
    r.child.stdin?.write("\x03");
    assert.equal((await r.exit).code, 102, r.output());
    assert.match(r.output(), /got INT/);
  });
});
