/**
 * `berth events` through the real bin/berth: a run/stop/rm made by other processes is seen by a
 * follower started before them (live), and afterwards with `--since` (from the journal), with
 * Docker's order of actions, attributes and filters.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store?.cleanup();
});

interface Follower {
  readonly child: ChildProcess;
  /** Every line printed so far. */
  readonly lines: string[];
  /** Resolves once a printed line satisfies `pred` (rejects after `ms`). */
  waitFor(pred: (line: string) => boolean, ms?: number): Promise<string>;
  stop(): Promise<number | null>;
}

/** `berth events ARGS` running in the background, its output collected line by line. */
function follow(args: readonly string[]): Follower {
  const [cmd = "", ...argv] = store.argv(["events", ...args]);
  const child = spawn(cmd, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...store.env },
  });
  const lines: string[] = [];
  let partial = "";
  const waiters: Array<() => void> = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((res) => child.on("close", (code) => res(code)));
  return {
    child,
    lines,
    waitFor(pred, ms = 30_000) {
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`timed out; events so far:\n${lines.join("\n")}`)), ms);
        const check = () => {
          const hit = lines.find(pred);
          if (hit !== undefined) {
            clearTimeout(timer);
            res(hit);
          } else waiters.push(check);
        };
        check();
      });
    },
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

interface Ev {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

function parse(line: string): Ev {
  return JSON.parse(line) as Ev;
}

/**
 * Makes marker events (volume create) until the follower prints one: then it is surely
 * following. No fixed sleep: the follower's readiness is the condition waited for.
 */
async function untilFollowing(f: Follower): Promise<void> {
  for (let i = 0; ; i++) {
    const name = `marker-${process.pid}-${i}`;
    await store.ok(["volume", "create", name]);
    const seen = await f
      .waitFor((l) => l.includes(`"ID":"${name}"`), 1_000)
      .then(() => true)
      .catch(() => false);
    if (seen) return;
  }
}

describe("berth events", () => {
  test("a follower sees a run, stop and rm made by other processes, and --since replays them", async () => {
    const t0 = (Date.now() - 1000) / 1000;
    const live = follow(["--format", "{{json .}}"]);
    try {
      await untilFollowing(live);
      const run = await store.ok([
        "run",
        "-d",
        "--name",
        "ev-web",
        "-l",
        "tier=front",
        "busybox",
        "sleep",
        "300",
      ]);
      const id = run.stdout.trim();
      await store.ok(["stop", "-t", "1", "ev-web"]);
      await store.ok(["rm", "ev-web"]);
      await live.waitFor((l) => l.includes('"Action":"destroy"') && l.includes(id));
      const mine = live.lines.map(parse).filter((e) => e.Type === "container" && e.Actor.ID === id);
      assert.deepEqual(
        mine.map((e) => e.Action),
        ["create", "start", "kill", "kill", "die", "stop", "destroy"],
      );
      const [create, , term, kill, die] = mine as [Ev, Ev, Ev, Ev, Ev];
      // The container's labels (its image's included, as Docker merges them), image and name.
      const { image, name, tier } = create.Actor.Attributes;
      assert.deepEqual({ image, name, tier }, { image: "busybox", name: "ev-web", tier: "front" });
      assert.equal(create.status, "create");
      assert.equal(create.id, id);
      assert.equal(create.from, "busybox");
      assert.equal(create.scope, "local");
      // busybox's sleep as PID 1 ignores SIGTERM: stop -t 1 sends TERM, then KILL.
      assert.equal(term.Actor.Attributes.signal, "15");
      assert.equal(kill.Actor.Attributes.signal, "9");
      assert.equal(die.Actor.Attributes.exitCode, "137");
      assert.ok(Math.abs(die.timeNano / 1e9 - die.time) < 1);
      // The endpoint on the default network came and went around the process.
      const net = live.lines
        .map(parse)
        .filter((e) => e.Type === "network" && e.Actor.Attributes.container === id)
        .map((e) => e.Action);
      assert.deepEqual(net, ["connect", "disconnect"]);
    } finally {
      assert.equal(await live.stop(), 0);
    }

    // The same events from the journal, by another process, after the fact.
    const since = await store.ok([
      "events",
      "--since",
      String(t0),
      "--until",
      "0s",
      "--filter",
      "container=ev-web",
      "--format",
      "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
    ]);
    assert.equal(
      since.stdout,
      [
        "container create ev-web",
        "container start ev-web",
        "container kill ev-web",
        "container kill ev-web",
        "container die ev-web",
        "container stop ev-web",
        "container destroy ev-web",
        "",
      ].join("\n"),
    );
    // Docker's filters: event, label (over the attributes), type; an RFC 3339 --since.
    const sinceText = new Date(t0 * 1000).toISOString();
    const dies = await store.ok([
      "events",
      "--since",
      sinceText,
      "--until",
      "0s",
      "--filter",
      "event=die",
      "--filter",
      "label=tier=front",
      "--format",
      "{{.Actor.Attributes.exitCode}}",
    ]);
    assert.equal(dies.stdout, "137\n");
    const volumes = await store.ok(["events", "--since", "10m", "--until", "0s", "--filter", "type=volume"]);
    assert.match(
      volumes.stdout,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) volume create marker-/m,
    );
  });

  test("bad input is refused before anything is shown", async () => {
    const badFilter = await store.berth(["events", "--filter", "colour=red", "--until", "0s"]);
    assert.equal(badFilter.code, 1);
    assert.match(badFilter.stderr, /invalid filter 'colour'/);
    const badTime = await store.berth(["events", "--since", "yesterday"]);
    assert.equal(badTime.code, 1);
    assert.match(badTime.stderr, /failed to parse value as time or duration: "yesterday"/);
    const badTemplate = await store.berth(["events", "--format", "{{.Nope}}", "--until", "0s"]);
    assert.equal(badTemplate.code, 1);
    assert.match(badTemplate.stderr, /can't evaluate field Nope/);
    const backwards = await store.berth(["events", "--since", "0s", "--until", "1h"]);
    assert.equal(backwards.code, 1);
    assert.match(backwards.stderr, /cannot be after/);
  });
});
