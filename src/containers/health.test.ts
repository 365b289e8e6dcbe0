import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  applyProbeResult,
  type HealthcheckResult,
  type HealthState,
  healthOnStart,
  healthOnStop,
  healthText,
  limitOutput,
  nextProbeAt,
  type ProbePlan,
  probePlan,
  validateHealthcheck,
} from "./health.js";

const S = 1e9; // one second in nanoseconds
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** A fake clock driving the state machine as the supervisor would: probe when due, record. */
function simulate(
  plan: ProbePlan,
  outcomes: ReadonlyArray<{ code: number; takesMs?: number }>,
): Array<{ at: number; state: HealthState }> {
  let state = healthOnStart(undefined);
  const seen: Array<{ at: number; state: HealthState }> = [];
  for (const o of outcomes) {
    const start = nextProbeAt(plan, state, T0) - T0;
    const end = start + (o.takesMs ?? 0);
    const result: HealthcheckResult = { Start: at(start), End: at(end), ExitCode: o.code, Output: "" };
    state = applyProbeResult(state, result, { plan, startedAtMs: T0, resultStartMs: T0 + start });
    seen.push({ at: start, state });
  }
  return seen;
}

describe("health plan", () => {
  test("Docker's defaults fill zero fields; CMD-SHELL runs the shell", () => {
    const plan = probePlan({ Healthcheck: { Test: ["CMD-SHELL", "curl -f localhost"] } });
    assert.deepEqual(plan, {
      args: ["/bin/sh", "-c", "curl -f localhost"],
      intervalMs: 30_000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      retries: 3,
    });
    assert.deepEqual(
      probePlan({ Shell: ["/bin/ash", "-eo"], Healthcheck: { Test: ["CMD-SHELL", "x"] } })?.args,
      ["/bin/ash", "-eo", "x"],
    );
    assert.deepEqual(probePlan({ Healthcheck: { Test: ["CMD", "true", "a b"], Interval: 2 * S } })?.args, [
      "true",
      "a b",
    ]);
  });

  test("NONE, no test and no healthcheck mean no probe", () => {
    assert.equal(probePlan({ Healthcheck: { Test: ["NONE"] } }), undefined);
    assert.equal(probePlan({ Healthcheck: { Interval: S } }), undefined);
    assert.equal(probePlan({}), undefined);
  });

  test("create refuses durations under 1ms and negative retries", () => {
    assert.throws(
      () => validateHealthcheck({ Interval: 1000 }),
      /Interval in Healthcheck cannot be less than 1ms/,
    );
    assert.throws(() => validateHealthcheck({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
    assert.throws(() => validateHealthcheck({ Test: ["SHELL", "x"] }), /unknown healthcheck type/);
    validateHealthcheck({ Interval: 0, Timeout: 1e6, Test: ["NONE"] });
  });
});

describe("health state machine (fake time)", () => {
  const plan = (p: Partial<ProbePlan> = {}): ProbePlan => ({
    args: ["true"],
    intervalMs: 1000,
    timeoutMs: 1000,
    startPeriodMs: 0,
    startIntervalMs: 5000,
    retries: 3,
    ...p,
  });

  test("a passing probe makes it healthy one interval after the start", () => {
    const seen = simulate(plan(), [{ code: 0 }]);
    assert.equal(seen[0]?.at, 1000);
    assert.equal(seen[0]?.state.Status, "healthy");
    assert.equal(seen[0]?.state.FailingStreak, 0);
  });

  test("unhealthy only after `retries` consecutive failures; a pass resets the streak", () => {
    const seen = simulate(plan({ retries: 2 }), [
      { code: 1 },
      { code: 0 },
      { code: 1 },
      { code: 3 },
      { code: -1 },
    ]);
    assert.deepEqual(
      seen.map((s) => [s.state.Status, s.state.FailingStreak]),
      [
        ["starting", 1],
        ["healthy", 0],
        ["healthy", 1],
        ["unhealthy", 2],
        ["unhealthy", 3],
      ],
    );
  });

  test("the next probe comes one interval after the previous one ended", () => {
    const seen = simulate(plan(), [{ code: 0, takesMs: 300 }, { code: 0, takesMs: 300 }, { code: 0 }]);
    assert.deepEqual(
      seen.map((s) => s.at),
      [1000, 2300, 3600],
    );
  });

  test("failures within the start period do not count; the start interval applies while starting", () => {
    const p = plan({ startPeriodMs: 3000, startIntervalMs: 500, intervalMs: 2000, retries: 1 });
    const seen = simulate(p, [
      { code: 1 },
      { code: 1 },
      { code: 1 },
      { code: 1 },
      { code: 1 },
      { code: 1 },
      { code: 1 },
    ]);
    // 500..3000: every 500 ms, not counted; from the start period's end, counted (retries 1).
    assert.deepEqual(
      seen.map((s) => [s.at, s.state.Status, s.state.FailingStreak]),
      [
        [500, "starting", 0],
        [1000, "starting", 0],
        [1500, "starting", 0],
        [2000, "starting", 0],
        [2500, "starting", 0],
        [3000, "unhealthy", 1],
        [5000, "unhealthy", 2],
      ],
    );
  });

  test("once healthy within the start period, the regular interval applies and failures count", () => {
    const p = plan({ startPeriodMs: 10_000, startIntervalMs: 500, intervalMs: 2000, retries: 1 });
    const seen = simulate(p, [{ code: 0 }, { code: 1 }]);
    assert.deepEqual(
      seen.map((s) => [s.at, s.state.Status]),
      [
        [500, "healthy"],
        [2500, "unhealthy"],
      ],
    );
  });

  test("the log keeps the last five results", () => {
    const seen = simulate(
      plan(),
      [0, 1, 2, 3, 4, 5, 6].map((i) => ({ code: i === 6 ? 0 : 1, takesMs: i })),
    );
    const log = seen.at(-1)?.state.Log ?? [];
    assert.equal(log.length, 5);
    assert.equal(log.at(-1)?.ExitCode, 0);
  });

  test("start resets status and streak and keeps the log; stop leaves it unhealthy", () => {
    const running = simulate(plan({ retries: 5 }), [{ code: 1 }, { code: 1 }]).at(-1)?.state as HealthState;
    const stopped = healthOnStop(running);
    assert.equal(stopped.Status, "unhealthy");
    assert.equal(stopped.FailingStreak, 2);
    const again = healthOnStart(stopped);
    assert.deepEqual([again.Status, again.FailingStreak, again.Log.length], ["starting", 0, 2]);
    assert.equal(healthText(again), "health: starting");
    assert.equal(healthText(stopped), "unhealthy");
  });

  test("a probe of an earlier run does not set the schedule of this one", () => {
    const old: HealthState = {
      Status: "starting",
      FailingStreak: 0,
      Log: [{ Start: at(-5000), End: at(-4000), ExitCode: 0, Output: "" }],
    };
    assert.equal(nextProbeAt(plan(), old, T0), T0 + 1000);
  });

  test("output keeps its first 4096 bytes", () => {
    assert.equal(limitOutput(Buffer.from("ok\n")), "ok\n");
    const long = limitOutput(Buffer.alloc(5000, 0x61));
    assert.equal(long.length, 4096 + 3);
    assert.ok(long.endsWith("a..."));
  });
});
