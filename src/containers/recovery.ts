/**
 * Recovery: the one owner of everything a dead process can leave behind, and the written policy of
 * when it is repaired.
 *
 * What a dead process leaves, and who repairs it:
 * - a record that says running whose process is gone (conmon's exit file not yet read, or conmon
 *   itself killed: exit 255) — `observeExit`, by any command that looks at the container;
 * - a half-made container (an incomplete record older than a minute whose `create` no longer
 *   holds the lock) — `reconcile`;
 * - exit files of containers `--rm` removed, kept a minute for a foreground `run` — `reconcile`;
 * - network attachments and namespaces of containers that do not run — `reconcile`, through the
 *   network service (which spares attachments a live process marked while starting);
 * - runc states without a running record, overlay mounts and conmon pid files of containers that
 *   do not run, container directories without a record — `repair`;
 * - exec sessions of dead conmons (ExecService.sweep, at every exec), build workspaces of dead
 *   builds and stale ingests/snapshots (every engine start, local/engine.ts).
 *
 * When: `reconcile` is cheap (one query of the states, a stat or two per running container) and
 * runs before every listing command (`ps`, `create`, `container prune`, the network commands).
 * `repair` reads runc's state root, the mount table and the containers directory: it runs once
 * per boot (the first `reconcile` after the runroot, a tmpfs, was emptied — its marker file is
 * absent) and when `berth serve` starts. Every change to a container is made holding its lock, and
 * a container another process holds is skipped (that process will finish or, dead, release it).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../base/errors.js";
import { bestEffort, debug } from "../base/log.js";
import type { ContainerRecord } from "../metadata/containers.js";
import type { ExitStatus } from "../runtime/runtime.js";
import { readdirIfExists, statIfExists } from "../sys/fs.js";
import { isMountPoint } from "../sys/mount.js";
import { emitVolumeEvents, execDuration } from "./events.js";
import { healthOnStop } from "./health.js";
import { RUNNING_STATES } from "./service.js";
import { ContainerServicePart } from "./service-part.js";
import { rfc3339Nano } from "./status.js";

const CONTAINER_ID = /^[a-f0-9]{64}$/;

export class ContainerRecovery extends ContainerServicePart {
  private destroy(rec: ContainerRecord | undefined): Promise<void> {
    return this.svc.destroy(rec);
  }

  /**
   * Brings records in line with reality: a process that exited while no berth process watched
   * (conmon's exit file exists, or its conmon is gone) is recorded as exited; incomplete records
   * left by a killed `create` are removed. Returns the exits it found but could not record
   * because another process holds the container (see `seen`), by container ID, for a listing to
   * show.
   */
  async reconcile(): Promise<Map<string, ContainerRecord>> {
    const pending = new Map<string, ContainerRecord>();
    await this.repairOncePerBoot();
    const now = this.now();
    // Only the states: whole records (their configurations decoded) just for those that need it.
    const states = this.meta.states();
    // Exit files of containers `--rm` removed, kept a while for a foreground `run` to read.
    await this.driver.removeExitFiles({ keep: new Set(states.map((r) => r.id)), olderThanMs: 60_000 });
    for (const s of states) {
      if (s.incomplete) {
        // A `create` in progress holds the lock; only a dead one's record is removed.
        if (now - s.created > 60_000)
          await this.deps.locks
            .tryWith(s.id, async () => {
              const cur = this.meta.get(s.id);
              if (cur?.incomplete) await this.destroy(cur);
            })
            .catch((err: unknown) => debug(`removing the half-made container ${s.id}: ${errorMessage(err)}`));
        continue;
      }
      if (!RUNNING_STATES.has(s.status)) continue;
      const rec = this.meta.get(s.id);
      if (!rec) continue;
      const view = await this.seen(rec);
      if (view.pending) pending.set(rec.id, view.record);
    }
    // Network attachments of containers that no longer run (a killed berth left them).
    const running = new Set(
      this.meta
        .states()
        .filter((r) => RUNNING_STATES.has(r.status))
        .map((r) => r.id),
    );
    await this.deps.network.reconcile(
      (id) => running.has(id),
      async (id, fn) => {
        await this.deps.locks.tryWith(id, async () => {
          const cur = this.meta.get(id);
          // Started meanwhile (between the listing above and this lock).
          if (cur && RUNNING_STATES.has(cur.status)) return;
          await fn();
        });
      },
    );
    // Healthchecks of running containers need the store's supervisor (it may have been killed).
    // So do logs it converts or rotates.
    if (states.some((s) => (s.hasHealth || s.managedLog) && running.has(s.id)))
      await this.svc.ensureHealthSupervisor();
    return pending;
  }

  /**
   * The container as a reader should see it. An exit that another process is recording (conmon's
   * exit command, or a verb holding the container's lock) is shown as that exit at once, as
   * Docker shows a process's exit as soon as it happened; the holder saves it. `pending` says the
   * record returned is such a view rather than what is stored.
   */
  async seen(rec: ContainerRecord): Promise<{ record: ContainerRecord; pending: boolean }> {
    const o = await this.observe(rec);
    if (o.recorded) return { record: this.meta.get(rec.id) ?? rec, pending: false };
    if (!o.exit) return { record: rec, pending: false };
    const record: ContainerRecord = {
      ...rec,
      status: "exited",
      exitCode: o.exit.code,
      pid: 0,
      finishedAt: rfc3339Nano(o.exit.at),
      ...(rec.health ? { health: healthOnStop(rec.health) } : {}),
    };
    return { record, pending: true };
  }

  /**
   * Records the exit of a container whose process has ended; true when it had. Any process may
   * notice an exit (ps, inspect, wait), but only a holder of the container's lock records it: when
   * another process holds the lock (a verb in progress, or conmon's exit command), this one
   * leaves it to that process and answers false.
   */
  async observeExit(rec: ContainerRecord): Promise<boolean> {
    return (await this.observe(rec)).recorded;
  }

  /**
   * observeExit's work: `recorded` when the exit is (or already was) recorded; otherwise `exit` is
   * the exit the runtime reports while another process holds the container, undefined while it runs.
   */
  private async observe(rec: ContainerRecord): Promise<{ recorded: boolean; exit?: ExitStatus }> {
    if (!RUNNING_STATES.has(rec.status)) return { recorded: true };
    const exit = await this.exitOf(rec);
    if (!exit) return { recorded: false };
    const r = await this.deps.locks.tryWith(rec.id, async () => {
      const cur = this.meta.get(rec.id);
      if (!cur || !RUNNING_STATES.has(cur.status)) return true;
      // Again under the lock: a start may have replaced the process meanwhile.
      const exit = await this.exitOf(cur);
      if (!exit) return false;
      const oomKilled = await this.driver.oomKilled(cur.id);
      this.deps.db.write(() => {
        this.meta.update(cur.id, {
          status: "exited",
          exitCode: exit.code,
          pid: 0,
          finishedAt: rfc3339Nano(exit.at),
          oomKilled,
          ...(cur.health ? { health: healthOnStop(cur.health) } : {}),
        });
        if (oomKilled) this.svc.emit(cur, "oom");
        this.svc.emit(cur, "die", {
          exitCode: String(exit.code),
          execDuration: execDuration(cur.startedAt, rfc3339Nano(exit.at)),
        });
      });
      // Independent of each other (the namespace is berth's file, not runc's): at once.
      await Promise.all([
        bestEffort(`detaching the network of exited container ${cur.id}`, this.deps.network.detach(cur.id)),
        bestEffort(`releasing the runtime state of exited container ${cur.id}`, this.driver.release(cur.id)),
      ]);
      emitVolumeEvents(this.deps.images.events, cur, "unmount");
      return true;
    });
    if (!r.acquired) return { recorded: false, exit };
    return { recorded: r.value };
  }

  /** How a container's process ended, if the runtime says it has (undefined: it runs). */
  private async exitOf(rec: ContainerRecord): Promise<{ code: number; at: number } | undefined> {
    if (rec.status === "restarting") {
      // The cleanup process that decided the restart owns the container during its back-off;
      // only if it died (nothing started for longer than the longest back-off) is it exited.
      const exit = await this.driver.exitStatus(rec.id);
      if (!exit || this.now() - exit.at < 2 * 60_000 || (await this.driver.monitorAlive(rec.id)))
        return undefined;
    }
    const exit = await this.driver.exitStatus(rec.id);
    if (exit) return exit;
    if (await this.driver.monitorAlive(rec.id)) return undefined;
    const state = await this.driver.state(rec.id);
    if (state && state.status !== "stopped") return undefined;
    // conmon died without an exit file (killed): the process is gone too.
    return { code: 255, at: this.now() };
  }

  /**
   * The full repair (see the policy above): runtime state, mounts and directories of containers
   * that do not run. Idempotent; containers held by another process are left to it.
   */
  async repair(): Promise<void> {
    const live = (id: string) => {
      const r = this.meta.get(id);
      return !!r && (RUNNING_STATES.has(r.status) || r.incomplete);
    };
    // runc states (and with them mounts and pid files) of containers that do not run.
    for (const id of await this.driver.known()) {
      if (!CONTAINER_ID.test(id) || live(id)) continue;
      await this.deps.locks.tryWith(id, async () => {
        if (!live(id))
          await bestEffort(`releasing the leftover runtime state of ${id}`, this.driver.release(id));
      });
    }
    const dirs = await readdirIfExists(join(this.driver.dir("x"), ".."));
    for (const name of dirs) {
      if (!CONTAINER_ID.test(name)) continue;
      if (!this.meta.get(name)) {
        // A directory without a record: a removal that died half-way.
        await this.deps.locks.tryWith(name, async () => {
          if (!this.meta.get(name))
            await bestEffort(
              `removing the directory of removed container ${name}`,
              this.driver.destroy(name),
            );
        });
      } else if (!live(name) && (await isMountPoint(this.driver.rootfs(name)))) {
        await this.deps.locks.tryWith(name, async () => {
          if (!live(name))
            await bestEffort(
              `unmounting the root filesystem of stopped container ${name}`,
              this.driver.release(name),
            );
        });
      }
    }
  }

  /** Runs `repair` if this boot has not had one yet (its marker file is absent). */
  async repairOncePerBoot(): Promise<void> {
    const marker = this.deps.repairMarker;
    if (!marker) return;
    if (await statIfExists(marker)) return;
    await this.deps.locks.tryWith("repair", async () => {
      await this.repair();
      await writeFile(marker, `${new Date(this.now()).toISOString()}\n`);
    });
  }
}
