/**
 * A container's health, as Docker's daemon keeps it: the probe to run (from Config.Healthcheck,
 * defaults filled in), when the next probe is due, and how a probe's result moves the state
 * (starting → healthy / unhealthy, the failing streak, the last five results). Pure: the
 * supervisor (health-supervisor.ts) runs the probes and stores what these functions return.
 *
 * Docker's rules kept here:
 * - defaults: interval 30s, timeout 30s, retries 3, start period 0, start interval 5s; a zero
 *   field means its default;
 * - the first probe comes one interval after the start; the next one interval after the previous
 *   probe ended; during the start period, while still `starting`, the start interval is used;
 * - exit 0 is healthy (streak reset); anything else (1, other codes, a timeout's -1, a probe that
 *   could not run) is a failure, which does not count while `starting` within the start period;
 *   `retries` consecutive counted failures make it unhealthy;
 * - a start resets the status to `starting` and the streak to 0 (the log is kept); a stopped
 *   container's health is `unhealthy`, as Docker's closed monitor leaves it;
 * - the log keeps the last 5 results; a probe's output keeps its first 4096 bytes ("..." after).
 */
import { invalidArgument } from "../base/errors.js";
import type { ContainerConfig, HealthcheckResult, HealthState } from "../engine/types.js";

export type { HealthcheckResult, HealthState } from "../engine/types.js";

/** A container's probe with Docker's defaults in force (milliseconds). */
export interface ProbePlan {
  /** The process to run: CMD's arguments, or the shell with CMD-SHELL's command. */
  readonly args: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly startIntervalMs: number;
  readonly retries: number;
}

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
/** Results kept in State.Health.Log. */
export const MAX_LOG_ENTRIES = 5;
/** Bytes of a probe's output kept. */
export const MAX_OUTPUT_BYTES = 4096;

const NS_PER_MS = 1e6;

function ms(ns: number | undefined, fallback: number): number {
  return ns && ns > 0 ? ns / NS_PER_MS : fallback;
}

/**
 * The daemon's checks of a Healthcheck at create time: durations of 0 (default) or at least 1ms,
 * retries not negative.
 */
export function validateHealthcheck(hc: ContainerConfig["Healthcheck"]): void {
  if (!hc) return;
  const durations: Array<[string, number | undefined]> = [
    ["Interval", hc.Interval],
    ["Timeout", hc.Timeout],
    ["StartPeriod", hc.StartPeriod],
    ["StartInterval", hc.StartInterval],
  ];
  for (const [name, v] of durations) {
    if (v !== undefined && v !== 0 && v < NS_PER_MS)
      throw invalidArgument(`${name} in Healthcheck cannot be less than 1ms`);
  }
  if (hc.Retries !== undefined && hc.Retries < 0)
    throw invalidArgument("Retries in Healthcheck cannot be negative");
  const kind = hc.Test?.[0];
  if (kind !== undefined && !["", "NONE", "CMD", "CMD-SHELL"].includes(kind))
    throw invalidArgument(`unknown healthcheck type '${kind}' (expected "CMD", "CMD-SHELL" or "NONE")`);
}

/**
 * A Healthcheck as Docker stores it: fields in HealthConfig's order, empty ones left out (Go's
 * omitempty), so inspect shows what Docker's does.
 */
export function normalizeHealthcheck(
  hc: NonNullable<ContainerConfig["Healthcheck"]>,
): NonNullable<ContainerConfig["Healthcheck"]> {
  return {
    ...(hc.Test && hc.Test.length > 0 ? { Test: [...hc.Test] } : {}),
    ...(hc.Interval ? { Interval: hc.Interval } : {}),
    ...(hc.Timeout ? { Timeout: hc.Timeout } : {}),
    ...(hc.StartPeriod ? { StartPeriod: hc.StartPeriod } : {}),
    ...(hc.StartInterval ? { StartInterval: hc.StartInterval } : {}),
    ...(hc.Retries ? { Retries: hc.Retries } : {}),
  };
}

/** The probe a container runs, or undefined when it has none (no test, or NONE). */
export function probePlan(config: ContainerConfig): ProbePlan | undefined {
  const hc = config.Healthcheck;
  const test = hc?.Test ?? [];
  const kind = test[0];
  let args: string[];
  if (kind === "CMD") args = test.slice(1);
  else if (kind === "CMD-SHELL") {
    const shell = config.Shell && config.Shell.length > 0 ? config.Shell : ["/bin/sh", "-c"];
    args = [...shell, test.slice(1).join(" ")];
  } else return undefined;
  if (args.length === 0 || args[0] === "") return undefined;
  return {
    args,
    intervalMs: ms(hc?.Interval, DEFAULT_INTERVAL_MS),
    timeoutMs: ms(hc?.Timeout, DEFAULT_TIMEOUT_MS),
    startPeriodMs: ms(hc?.StartPeriod, 0),
    startIntervalMs: ms(hc?.StartInterval, DEFAULT_START_INTERVAL_MS),
    retries: hc?.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES,
  };
}

/** The health a (re)started container begins with: starting, no streak, earlier results kept. */
export function healthOnStart(prev: HealthState | undefined): HealthState {
  return { Status: "starting", FailingStreak: 0, Log: prev?.Log ?? [] };
}

/** The health of a container whose process ended (Docker's closed monitor leaves it unhealthy). */
export function healthOnStop(prev: HealthState): HealthState {
  return { ...prev, Status: "unhealthy" };
}

/** Milliseconds between probes at `now`, by Docker's rule for the start period. */
export function probeInterval(
  plan: ProbePlan,
  health: HealthState,
  startedAtMs: number,
  nowMs: number,
): number {
  if (nowMs - startedAtMs >= plan.startPeriodMs) return plan.intervalMs;
  return health.Status === "starting" ? plan.startIntervalMs : plan.intervalMs;
}

/**
 * When the next probe is due (ms since the epoch): one interval after the last probe of this run
 * ended, or after the start when there has been none.
 */
export function nextProbeAt(plan: ProbePlan, health: HealthState, startedAtMs: number): number {
  const last = health.Log[health.Log.length - 1];
  const lastEnd = last ? Date.parse(last.End) : Number.NaN;
  const from = Number.isFinite(lastEnd) && lastEnd >= startedAtMs ? lastEnd : startedAtMs;
  return from + probeInterval(plan, health, startedAtMs, from);
}

/** A probe's output as Docker keeps it: the first 4096 bytes, "..." when there was more. */
export function limitOutput(output: Buffer): string {
  if (output.length <= MAX_OUTPUT_BYTES) return output.toString("utf8");
  return `${output.subarray(0, MAX_OUTPUT_BYTES).toString("utf8")}...`;
}

/**
 * The health after a probe's result (Docker's handleProbeResult). `resultStartMs` is when the
 * probe started, which decides whether a failure falls within the start period.
 */
export function applyProbeResult(
  prev: HealthState,
  result: HealthcheckResult,
  o: { readonly plan: ProbePlan; readonly startedAtMs: number; readonly resultStartMs: number },
): HealthState {
  const log = [...prev.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: "healthy", FailingStreak: 0, Log: log };
  const inStartPeriod = prev.Status === "starting" && o.resultStartMs - o.startedAtMs < o.plan.startPeriodMs;
  if (inStartPeriod) return { ...prev, Log: log };
  const streak = prev.FailingStreak + 1;
  return {
    Status: streak >= o.plan.retries ? "unhealthy" : prev.Status,
    FailingStreak: streak,
    Log: log,
  };
}

/** The words of ps's STATUS: "health: starting", "healthy", "unhealthy". */
export function healthText(h: HealthState): string {
  return h.Status === "starting" ? "health: starting" : h.Status;
}
