/**
 * The STATUS text of `ps` and the state of `inspect`, as Docker derives them from a container's state.
 * Pure: it reads a record's state; it never changes it.
 */
import { humanDuration } from "../base/duration.js";
import type { ContainerState } from "../engine/types.js";
import type { ContainerRecord } from "../metadata/containers.js";
import { healthText } from "./health.js";

export const ZERO_TIME = "0001-01-01T00:00:00Z";

function since(time: string, now: number): string {
  return humanDuration(Math.max(0, now - Date.parse(time)));
}

/** "Up 2 minutes", "Up 3 seconds (Paused)", "Exited (0) 5 seconds ago", "Created", … */
export function statusText(rec: ContainerRecord, now: number): string {
  switch (rec.status) {
    case "running":
      return rec.health
        ? `Up ${since(rec.startedAt, now)} (${healthText(rec.health)})`
        : `Up ${since(rec.startedAt, now)}`;
    case "paused":
      return `Up ${since(rec.startedAt, now)} (Paused)`;
    case "restarting":
      return `Restarting (${rec.exitCode}) ${since(rec.finishedAt, now)} ago`;
    case "removing":
      return "Removal In Progress";
    case "dead":
      return "Dead";
    case "created":
      return "Created";
    case "exited":
      if (rec.startedAt === ZERO_TIME) return "Created";
      if (rec.finishedAt === ZERO_TIME) return "";
      return `Exited (${rec.exitCode}) ${since(rec.finishedAt, now)} ago`;
  }
}

export function containerState(rec: ContainerRecord): ContainerState {
  return {
    Status: rec.status,
    Running: rec.status === "running" || rec.status === "paused" || rec.status === "restarting",
    Paused: rec.status === "paused",
    Restarting: rec.status === "restarting",
    OOMKilled: rec.oomKilled,
    Dead: rec.status === "dead",
    Pid: rec.status === "running" || rec.status === "paused" ? rec.pid : 0,
    ExitCode: rec.exitCode,
    Error: rec.error,
    StartedAt: rec.startedAt,
    FinishedAt: rec.finishedAt,
    ...(rec.health ? { Health: rec.health } : {}),
  };
}

/** RFC 3339 with nanoseconds, as Docker writes times ("2024-10-22T09:00:00.123456789Z"). */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}
