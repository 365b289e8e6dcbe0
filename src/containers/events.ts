/**
 * Container events as Docker's daemon logs them: the actor is the container's ID; its
 * attributes are the container's labels plus `image` (as the user named it) and `name`, and
 * what the action adds (`exitCode` for die, `signal` for kill, `oldName` for rename, …).
 * It shapes and records events; it never decides when one happens (the container service does).
 */
import { constants } from "node:os";
import type { ContainerRecord } from "../metadata/containers.js";
import type { EventSink } from "../metadata/events.js";

export function emitContainerEvent(
  sink: EventSink,
  rec: ContainerRecord,
  action: string,
  extra: Readonly<Record<string, string>> = {},
): void {
  sink.emit("container", action, {
    ID: rec.id,
    Attributes: { ...(rec.config.Labels ?? {}), image: rec.imageRef, name: rec.name, ...extra },
  });
}

/** A volume mounted into a container at start, or released when its process ended. */
export function emitVolumeEvents(sink: EventSink, rec: ContainerRecord, action: "mount" | "unmount"): void {
  for (const m of rec.mounts) {
    if (m.Type !== "volume" || !m.Name) continue;
    const attrs: Record<string, string> =
      action === "mount"
        ? {
            container: rec.id,
            destination: m.Destination,
            driver: m.Driver ?? "local",
            propagation: m.Propagation,
            "read/write": String(m.RW),
          }
        : { container: rec.id, driver: m.Driver ?? "local" };
    sink.emit("volume", action, { ID: m.Name, Attributes: attrs });
  }
}

/** A signal as `kill` events name it: its number ("15" for TERM). */
export function signalNumber(signal: string): string {
  if (/^\d+$/.test(signal)) return signal;
  const rt = /^RTM(IN|AX)([+-]\d{1,2})?$/.exec(signal);
  if (rt) {
    const base = rt[1] === "IN" ? 34 : 64;
    return String(base + Number(rt[2] ?? 0));
  }
  const found = Object.entries(constants.signals).find(([name]) => name === `SIG${signal}`);
  return found ? String(found[1]) : signal;
}

/** Whole seconds between two RFC 3339 times (Docker's execDuration), 0 when either is unset. */
export function execDuration(startedAt: string, finishedAt: string): string {
  const a = Date.parse(startedAt);
  const b = Date.parse(finishedAt);
  if (Number.isNaN(a) || Number.isNaN(b) || a <= 0 || b < a) return "0";
  return String(Math.floor((b - a) / 1000));
}
