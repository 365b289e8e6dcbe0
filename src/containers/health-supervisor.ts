/**
 * The health supervisor: the one actor per store that runs containers' healthcheck probes, so
 * that health keeps being checked when no berth command runs and no daemon is up.
 *
 * Lifecycle:
 * - Singleton: it runs holding the store-wide lock `health-supervisor` (sys/lock, on the runroot)
 *   and writes its PID to `<runroot>/health-supervisor.pid` while it does.
 * - Started on demand: whoever starts a container with a healthcheck, and every command's cheap
 *   recovery (reconcile) that sees a running container with one, calls `ensure()`; when no
 *   supervisor holds the lock, a detached `berth container health-supervisor` is spawned.
 *   `berth serve` hosts it in its own process instead (`superviseWhileServing`).
 * - Probes are exec sessions through the exec service (conmon + `runc exec`, as `berth exec`),
 *   attached for their output, killed at the timeout. Results are recorded under the container's
 *   lock, only if the container still runs the process the probe was started for.
 * - Stateless: the schedule follows from the record (its start time and the end of its last
 *   probe), so a supervisor that is killed and started again carries on where it was.
 * - It exits when no running container has a healthcheck for IDLE_EXIT_MS. Before it goes it
 *   lets go of the lock and looks once more, so a container started while it decided to exit is
 *   not left unsupervised (its starter found the lock held, or this look finds the container).
 */
import { rm, writeFile } from "node:fs/promises";
import { sleep } from "../base/async.js";
import { errorMessage, internal } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { readTextIfExists } from "../sys/fs.js";
import type { ExecService } from "./exec.js";
import {
  type HealthcheckResult,
  limitOutput,
  MAX_OUTPUT_BYTES,
  nextProbeAt,
  type ProbePlan,
  probePlan,
} from "./health.js";
import type { ContainerService } from "./service.js";
import { rfc3339Nano } from "./status.js";

/** The lock whose holder is the store's health supervisor. */
export const SUPERVISOR_LOCK = "health-supervisor";
/** Longest wait between looks at the records (new containers, stops) when no probe is due sooner. */
const POLL_MS = 1000;
/** Longest wait while logs are converted or rotated (a file grows past max-size meanwhile). */
const LOG_POLL_MS = 250;
/** A supervisor with nothing to supervise for this long exits. */
const IDLE_EXIT_MS = 5000;
/** Beyond its timeout, how long a killed probe's session may take to report its exit. */
const KILL_GRACE_MS = 10_000;

/** How the store's supervisor is found and started (wired by the composition root). */
export interface SupervisorLauncher {
  /** `<runroot>/health-supervisor.pid`. */
  readonly pidFile: string;
  /** Starts a detached supervisor process for this store. */
  spawn(): void;
}

/** Go's time.Duration String for whole milliseconds ("30s", "1m30s", "500ms"), as Docker's messages print it. */
export function goDurationText(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

export class HealthSupervisor {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Log work (conversion, rotation) in progress, by container. */
  private readonly logWork = new Map<string, Promise<void>>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly containers: ContainerService,
    private readonly execs: ExecService,
  ) {}

  private now(): number {
    return this.containers.now();
  }

  /**
   * Supervises until `signal` aborts, or (with `exitWhenIdle`) until nothing was left to
   * supervise for a while. The caller holds the supervisor lock.
   */
  async run(opts: { signal?: AbortSignal; exitWhenIdle?: boolean } = {}): Promise<void> {
    let idleSince: number | undefined;
    while (!opts.signal?.aborted) {
      const { supervised, nextDue } = this.tick();
      const now = this.now();
      if (supervised === 0 && this.inFlight.size === 0 && this.logWork.size === 0) {
        idleSince ??= now;
        if (opts.exitWhenIdle && now - idleSince >= IDLE_EXIT_MS) break;
      } else idleSince = undefined;
      const wait = Math.max(5, Math.min(POLL_MS, nextDue - now));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        const onAbort = () => done();
        function done() {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", onAbort);
          resolve();
        }
        this.wake = done;
        opts.signal?.addEventListener("abort", onAbort, { once: true });
      });
      this.wake = undefined;
    }
    await Promise.allSettled([...this.inFlight.values(), ...this.logWork.values()]);
  }

  /** Starts the probes that are due; returns how many containers are supervised and the next due time. */
  private tick(): { supervised: number; nextDue: number } {
    let supervised = 0;
    const now = this.now();
    let nextDue = Number.POSITIVE_INFINITY;
    for (const s of this.containers.meta.states()) {
      if (s.incomplete || (s.status !== "running" && s.status !== "paused")) continue;
      if (s.managedLog) {
        supervised++;
        nextDue = Math.min(nextDue, now + LOG_POLL_MS);
        this.maintainLog(s.id);
      }
      if (!s.hasHealth) continue;
      const rec = this.containers.meta.get(s.id);
      const plan = rec ? probePlan(rec.config) : undefined;
      if (!rec?.health || !plan) continue;
      supervised++;
      if (this.inFlight.has(rec.id)) continue;
      const startedAt = Date.parse(rec.startedAt);
      const due = nextProbeAt(plan, rec.health, startedAt);
      if (due > now) {
        nextDue = Math.min(nextDue, due);
        continue;
      }
      const id = rec.id;
      this.inFlight.set(
        id,
        bestEffort(`health probe of container ${id}`, this.probe(id, rec.startedAt, plan)).finally(() => {
          this.inFlight.delete(id);
          this.wake?.();
        }),
      );
    }
    return { supervised, nextDue };
  }

  /** Converts or rotates the container's log files, unless that is still under way. */
  private maintainLog(id: string): void {
    if (this.logWork.has(id)) return;
    const rec = this.containers.meta.get(id);
    if (!rec) return;
    this.logWork.set(
      id,
      bestEffort(`keeping the log files of container ${id}`, this.containers.maintainLog(rec, true)).finally(
        () => {
          this.logWork.delete(id);
        },
      ),
    );
  }

  /** Runs one probe of the container and records its result. */
  private async probe(id: string, startedAt: string, plan: ProbePlan): Promise<void> {
    const startMs = this.now();
    const result = await this.runProbe(id, plan);
    await this.containers.recordProbe(id, {
      startedAt,
      // In Docker's field order.
      result: {
        Start: rfc3339Nano(startMs),
        End: rfc3339Nano(this.now()),
        ExitCode: result.ExitCode,
        Output: result.Output,
      },
      plan,
      resultStartMs: startMs,
    });
  }

  private async runProbe(
    id: string,
    plan: ProbePlan,
  ): Promise<Pick<HealthcheckResult, "ExitCode" | "Output">> {
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (d: Buffer) => {
      if (size > MAX_OUTPUT_BYTES) return;
      chunks.push(d);
      size += d.length;
    };
    const rec = this.containers.meta.get(id);
    if (!rec) return { ExitCode: -1, Output: `No such container: ${id}` };
    try {
      // As Docker's probe: the container's user and working directory, no TTY, no stdin.
      const session = await this.execs.exec(
        id,
        {
          Cmd: [...plan.args],
          AttachStdout: true,
          AttachStderr: true,
          ...(rec.config.User ? { User: rec.config.User } : {}),
          ...(rec.config.WorkingDir ? { WorkingDir: rec.config.WorkingDir } : {}),
        },
        { attach: { onStdout: collect, onStderr: collect, onEnd: () => undefined } },
      );
      if (!session) throw internal("the probe's exec session did not attach");
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void bestEffort(`killing the timed-out probe of container ${id}`, this.execs.kill(session.id));
      }, plan.timeoutMs);
      const giveUp = new AbortController();
      try {
        const exit = await Promise.race([
          session.wait(),
          sleep(plan.timeoutMs + KILL_GRACE_MS, giveUp.signal, { resolveOnAbort: true }).then(
            () => undefined,
          ),
        ]);
        if (timedOut || !exit)
          return {
            ExitCode: -1,
            Output: `Health check exceeded timeout (${goDurationText(plan.timeoutMs)})`,
          };
        return { ExitCode: exit.ExitCode ?? -1, Output: limitOutput(Buffer.concat(chunks)) };
      } finally {
        clearTimeout(timer);
        giveUp.abort();
      }
    } catch (err) {
      return { ExitCode: -1, Output: errorMessage(err) };
    }
  }
}

/** Whether the process of a PID file is a live health supervisor. */
async function supervisorAlive(pidFile: string): Promise<boolean> {
  const pid = Number.parseInt((await readTextIfExists(pidFile)) ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // A process that is gone (or a PID reused by another program) is no supervisor.
  const cmdline = (await readTextIfExists(`/proc/${pid}/cmdline`)) ?? "";
  return cmdline.split("\0").includes("health-supervisor");
}

/**
 * Makes sure the store's supervisor runs: nothing when its PID file names a live one or another
 * process holds its lock (one starting up); a detached supervisor otherwise.
 */
export async function ensureSupervisor(
  containers: ContainerService,
  launcher: SupervisorLauncher,
): Promise<void> {
  if (await supervisorAlive(launcher.pidFile)) return;
  const r = await containers.deps.locks.tryWith(SUPERVISOR_LOCK, async () => undefined);
  if (!r.acquired) return;
  launcher.spawn();
}

/**
 * Runs the supervisor in this process while it holds the lock, until idle (a detached
 * supervisor: `berth container health-supervisor`) or until `signal` aborts.
 */
export async function superviseAsSingleton(
  supervisor: HealthSupervisor,
  containers: ContainerService,
  o: { pidFile: string; exitWhenIdle: boolean; signal?: AbortSignal },
): Promise<"ran" | "busy"> {
  for (;;) {
    const r = await containers.deps.locks.tryWith(SUPERVISOR_LOCK, async () => {
      await writeFile(o.pidFile, `${process.pid}\n`);
      try {
        await supervisor.run({
          exitWhenIdle: o.exitWhenIdle,
          ...(o.signal ? { signal: o.signal } : {}),
        });
      } finally {
        await rm(o.pidFile, { force: true });
      }
    });
    if (!r.acquired) return "busy";
    if (o.signal?.aborted) return "ran";
    // The lock is free now: a container started meanwhile by a command that saw it held is ours.
    if (!anythingToSupervise(containers)) return "ran";
  }
}

function anythingToSupervise(containers: ContainerService): boolean {
  return containers.meta
    .states()
    .some(
      (s) =>
        !s.incomplete && (s.hasHealth || s.managedLog) && (s.status === "running" || s.status === "paused"),
    );
}

/**
 * `berth serve`'s hosting: supervise in this process whenever no other supervisor does; while a
 * detached one runs, look again every few seconds (it exits when idle, then this takes over).
 */
export async function superviseWhileServing(
  supervisor: HealthSupervisor,
  containers: ContainerService,
  o: { pidFile: string; signal: AbortSignal },
): Promise<void> {
  while (!o.signal.aborted) {
    await superviseAsSingleton(supervisor, containers, { ...o, exitWhenIdle: false });
    await sleep(3000, o.signal, { resolveOnAbort: true });
  }
}
