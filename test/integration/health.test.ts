/**
 * Healthchecks through the real bin/berth: probes run by the store's health supervisor (a
 * detached process, since every `run -d` here exits at once), State.Health in inspect, ps's
 * STATUS and `--filter health=`, health_status events, the start period, a probe's timeout,
 * --no-healthcheck over an image's HEALTHCHECK, stop/restart resetting health, a killed
 * supervisor started again by the next command's recovery, and the same through `berth serve`
 * (which hosts the supervisor itself) with the docker CLI.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { REMOTE, Store } from "./harness.js";
import { dockerCliPresent, Serve } from "./serve-helpers.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

function parseHealth(text: string): Health | undefined {
  const v: unknown = JSON.parse(text);
  if (v === null) return undefined;
  assert.ok(typeof v === "object" && "Status" in v && "FailingStreak" in v && "Log" in v, text);
  return v as Health;
}

async function health(name: string): Promise<Health | undefined> {
  return parseHealth((await store.ok(["inspect", "-f", "{{json .State.Health}}", name])).stdout.trim());
}

/** Polls inspect (which starts nothing) until `ok` holds; fails with the last state after `ms`. */
async function waitHealth(name: string, ok: (h: Health) => boolean, ms = 60_000): Promise<Health> {
  const deadline = Date.now() + ms;
  let last: Health | undefined;
  for (;;) {
    last = await health(name);
    if (last && ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`health of ${name} never got there: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ps = async (...args: string[]) =>
  (await store.ok(["ps", "-a", "--format", "{{.Names}}\t{{.Status}}", ...args])).stdout;

async function supervisorPid(): Promise<number> {
  return Number.parseInt(await readFile(join(store.runroot, "health-supervisor.pid"), "utf8"), 10);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("healthchecks", () => {
  test("a passing probe: healthy in inspect, ps and its filter, a health_status event", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    await store.ok([
      "run",
      "-d",
      "--name",
      "good",
      "--health-cmd",
      "echo probe-output",
      "--health-interval",
      "300ms",
      "busybox",
      "sleep",
      "600",
    ]);
    // Right after the start: starting, nothing probed yet (the first probe is an interval away).
    const h = await waitHealth("good", (x) => x.Status === "healthy");
    assert.equal(h.FailingStreak, 0);
    const first = h.Log[0];
    assert.ok(first);
    assert.equal(first.ExitCode, 0);
    assert.equal(first.Output, "probe-output\n");
    assert.match(first.Start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.ok(Date.parse(first.End) >= Date.parse(first.Start));
    assert.match(await ps("--filter", "name=good"), /^good\tUp .* \(healthy\)\n$/);
    assert.match(await ps("--filter", "health=healthy"), /^good\t/m);
    assert.doesNotMatch(await ps("--filter", "health=none"), /^good\t/m);
    assert.doesNotMatch(await ps("--filter", "health=unhealthy"), /^good\t/m);
    const events = await store.ok([
      "events",
      "--since",
      since,
      "--until",
      new Date(Date.now() + 1000).toISOString(),
      "--filter",
      "container=good",
      "--format",
      "{{.Action}}",
    ]);
    const actions = events.stdout.split("\n");
    assert.equal(actions.filter((a) => a === "health_status: healthy").length, 1);
    assert.ok(actions.includes("exec_start: /bin/sh -c echo probe-output"), events.stdout);
  });

  test("health keeps updating after the CLI exits, and a killed supervisor is started again", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "keep",
      "--health-cmd",
      "true",
      "--health-interval",
      "200ms",
      "busybox",
      "sleep",
      "600",
    ]);
    // Only inspect runs meanwhile, and inspect starts nothing: the probes come from the supervisor.
    await waitHealth("keep", (x) => x.Log.length >= 3);
    const pid = await supervisorPid();
    assert.ok(alive(pid));
    const killedAt = Date.now();
    if (REMOTE) {
      // Through a server, the server hosts the supervisor: killing it kills the server, and the
      // next server (started as a user would) supervises the probes again.
      assert.equal(pid, store.serverPid);
      await store.crashAndRestartServer();
    } else process.kill(pid, "SIGKILL");
    // The next command's cheap recovery (ps) finds running healthchecks and no supervisor.
    await store.ok(["ps"]);
    await waitHealth("keep", (x) => Date.parse(x.Log.at(-1)?.Start ?? "") > killedAt);
    assert.notEqual(await supervisorPid(), pid);
  });

  test("failing probes: unhealthy after --health-retries, then stop and restart reset it", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "bad",
      "--health-cmd",
      "echo failing >&2; exit 1",
      "--health-interval",
      "1s",
      "--health-retries",
      "2",
      "busybox",
      "sleep",
      "600",
    ]);
    const h = await waitHealth("bad", (x) => x.Status === "unhealthy");
    assert.ok(h.FailingStreak >= 2, JSON.stringify(h));
    assert.ok(h.Log.length >= 2);
    for (const r of h.Log) {
      assert.equal(r.ExitCode, 1);
      assert.equal(r.Output, "failing\n");
    }
    assert.match(await ps("--filter", "name=bad"), /^bad\tUp .* \(unhealthy\)\n$/);
    assert.match(await ps("--filter", "health=unhealthy"), /^bad\t/m);

    await store.ok(["stop", "-t", "0", "bad"]);
    const stopped = await health("bad");
    assert.equal(stopped?.Status, "unhealthy");
    assert.match(await ps("--filter", "name=bad"), /^bad\tExited /);

    // A start resets the status (to starting) and the streak: the status changes to unhealthy
    // again, which is a second health_status event (events mark changes only).
    const unhealthyEvents = async () =>
      (
        await store.ok([
          "events",
          "--since",
          "10m",
          "--until",
          new Date(Date.now() + 1000).toISOString(),
          "--filter",
          "container=bad",
          "--filter",
          "event=health_status",
          "--format",
          "{{.Action}}",
        ])
      ).stdout
        .split("\n")
        .filter((a) => a === "health_status: unhealthy").length;
    assert.equal(await unhealthyEvents(), 1);
    await store.ok(["start", "bad"]);
    const restarted = await health("bad");
    const startedAt = (await store.ok(["inspect", "-f", "{{.State.StartedAt}}", "bad"])).stdout.trim();
    assert.ok(restarted, "health outlives a stop");
    // The start reset status and streak: the streak counts only the probes since the start (on a
    // busy machine some may have run already), and unhealthy again needs two of them.
    const since = restarted.Log.filter((e) => Date.parse(e.Start) >= Date.parse(startedAt)).length;
    assert.equal(restarted.FailingStreak, since, JSON.stringify(restarted));
    assert.equal(restarted.Status, since >= 2 ? "unhealthy" : "starting", JSON.stringify(restarted));
    const kept = restarted.Log.filter((e) => Date.parse(e.Start) < Date.parse(startedAt));
    assert.ok(kept.length > 0, "the log outlives a restart");
    const again = await waitHealth("bad", (x) => x.Status === "unhealthy");
    assert.ok(again.FailingStreak >= 2);
    assert.equal(await unhealthyEvents(), 2);
    await store.ok(["restart", "-t", "0", "bad"]);
    await waitHealth("bad", (x) => x.Status === "unhealthy");
    assert.equal(await unhealthyEvents(), 3);
  });

  test("before its first probe: health: starting in ps and its filter, an empty log", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "waiting",
      "--health-cmd",
      "true",
      "--health-interval",
      "1h",
      "busybox",
      "sleep",
      "600",
    ]);
    assert.deepEqual(await health("waiting"), { Status: "starting", FailingStreak: 0, Log: [] });
    assert.match(await ps("--filter", "name=waiting"), /^waiting\tUp .* \(health: starting\)\n$/);
    assert.match(await ps("--filter", "health=starting"), /^waiting\t/m);
  });

  test("failures within the start period do not count", async () => {
    const r = await store.ok([
      "run",
      "-d",
      "--name",
      "slow",
      "--health-cmd",
      "exit 1",
      "--health-interval",
      "500ms",
      "--health-start-period",
      "4s",
      "--health-start-interval",
      "200ms",
      "--health-retries",
      "1",
      "busybox",
      "sleep",
      "600",
    ]);
    assert.ok(r.stdout.trim());
    const startedAt = Date.parse(
      (await store.ok(["inspect", "-f", "{{.State.StartedAt}}", "slow"])).stdout.trim(),
    );
    const within = (x: Health) => x.Log.every((e) => Date.parse(e.Start) - startedAt < 4000);
    const early = await waitHealth("slow", (x) => x.Log.length >= 2 || !within(x));
    if (within(early)) {
      assert.equal(early.Status, "starting", JSON.stringify(early));
      assert.equal(early.FailingStreak, 0);
    }
    const h = await waitHealth("slow", (x) => x.Status === "unhealthy");
    const counted = h.Log.filter((e) => Date.parse(e.Start) - startedAt >= 4000);
    assert.ok(counted.length >= 1, "turned unhealthy only by a probe after the start period");
    assert.ok(
      h.Log.some((e) => Date.parse(e.Start) - startedAt < 4000),
      JSON.stringify(h),
    );
  });

  test("a probe past its timeout is killed and counts as a failure", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "stuck",
      "--health-cmd",
      "sleep 30",
      "--health-interval",
      "200ms",
      "--health-timeout",
      "500ms",
      "--health-retries",
      "1",
      "busybox",
      "sleep",
      "600",
    ]);
    const h = await waitHealth("stuck", (x) => x.Status === "unhealthy");
    const first = h.Log[0];
    assert.equal(first?.ExitCode, -1);
    assert.equal(first?.Output, "Health check exceeded timeout (500ms)");
    // The probe's process was killed: no `sleep 30` is left in the container for long.
    const top = async () => (await store.ok(["top", "stuck"])).stdout;
    const deadline = Date.now() + 20_000;
    while ((await top()).split("\n").filter((l) => l.includes("sleep 30")).length > 1) {
      if (Date.now() > deadline) assert.fail(`timed-out probes are still running:\n${await top()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  test("an image's HEALTHCHECK runs; --no-healthcheck overrides it; flags complete it", async () => {
    const ctx = store.path("hc-image");
    await mkdir(ctx, { recursive: true });
    await writeFile(
      join(ctx, "Dockerfile"),
      "FROM busybox\nHEALTHCHECK --interval=300ms --retries=4 CMD echo from-image\n",
    );
    await store.ok(["build", "-q", "-t", "hc:1", ctx]);
    await store.ok(["run", "-d", "--name", "img-hc", "hc:1", "sleep", "600"]);
    const h = await waitHealth("img-hc", (x) => x.Status === "healthy");
    assert.equal(h.Log[0]?.Output, "from-image\n");

    await store.ok(["run", "-d", "--name", "no-hc", "--no-healthcheck", "hc:1", "sleep", "600"]);
    assert.equal(
      (await store.ok(["inspect", "-f", "{{json .Config.Healthcheck.Test}}", "no-hc"])).stdout.trim(),
      '["NONE"]',
    );
    assert.equal(await health("no-hc"), undefined);
    assert.match(await ps("--filter", "name=no-hc"), /^no-hc\tUp [^(]*\n$/);
    assert.match(await ps("--filter", "health=none"), /^no-hc\t/m);

    // A flag overrides one field; the rest comes from the image, as Docker merges.
    await store.ok(["create", "--name", "merged-hc", "--health-retries", "7", "hc:1"]);
    assert.equal(
      (await store.ok(["inspect", "-f", "{{json .Config.Healthcheck}}", "merged-hc"])).stdout.trim(),
      '{"Test":["CMD-SHELL","echo from-image"],"Interval":300000000,"Retries":7}',
    );
    assert.equal(await health("merged-hc"), undefined, "a container never started has no State.Health");
    assert.match(await ps("--filter", "health=none"), /^merged-hc\t/m);
  });

  test("bad healthcheck flags are refused and create nothing", async () => {
    const names = async () => (await store.ok(["ps", "-aq"])).stdout;
    const before = await names();
    const cases: Array<[string[], RegExp]> = [
      [["--no-healthcheck", "--health-cmd", "true"], /--no-healthcheck conflicts with --health-\* options/],
      [["--health-interval", "-1s"], /--health-interval cannot be negative/],
      [["--health-retries", "-2"], /--health-retries cannot be negative/],
      [["--health-timeout", "10"], /invalid argument "10" for "--health-timeout" flag: time: missing unit/],
      [["--health-interval", "100us"], /Interval in Healthcheck cannot be less than 1ms/],
    ];
    for (const [flags, message] of cases) {
      const r = await store.berth(["create", ...flags, "busybox", "true"]);
      assert.notEqual(r.code, 0, flags.join(" "));
      // One line naming the mistake (a usage error adds the pointer to --help, as Docker's).
      assert.match(r.stderr.split("\n")[0] ?? "", message);
    }
    assert.equal(await names(), before);
  });

  test("through berth serve: the docker CLI's --health-* flags, serve hosting the probes", async (t) => {
    if (!(await dockerCliPresent())) {
      t.skip("the docker CLI is not installed on this machine");
      return;
    }
    const own = await Store.create();
    await own.busybox();
    const serve = await Serve.start(own);
    try {
      await serve.dockerOk([
        "run",
        "-d",
        "--name",
        "api-hc",
        "--health-cmd",
        "exit 0",
        "--health-interval",
        "300ms",
        "busybox",
        "sleep",
        "600",
      ]);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await serve.dockerOk(["inspect", "-f", "{{.State.Health.Status}}", "api-hc"]);
        if (r.stdout.trim() === "healthy") break;
        if (Date.now() > deadline) assert.fail(`never healthy: ${r.stdout}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const ps = await serve.dockerOk([
        "ps",
        "--filter",
        "health=healthy",
        "--format",
        "{{.Names}} {{.Status}}",
      ]);
      assert.match(ps.stdout, /^api-hc Up .* \(healthy\)$/m);
      // serve hosts the supervisor: its own PID is in the PID file (in remote mode the store's
      // first server, the harness's, holds it, and the docker CLI's server leaves it there).
      const pid = Number.parseInt(await readFile(join(own.runroot, "health-supervisor.pid"), "utf8"), 10);
      assert.equal(pid, REMOTE ? own.serverPid : serve.proc.pid);
    } finally {
      await serve.stop();
      await own.cleanup();
    }
  });
});
