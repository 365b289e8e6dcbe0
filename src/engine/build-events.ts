/**
 * The build's events on the wire of POST /build, for berth's own client. The classic builder's
 * JSON lines (what the docker CLI reads) carry steps one after another: no step ids, durations,
 * cancellations or errors per step, and the stages berth runs side by side would be told apart
 * only by text. A client that asks with the query parameter `berthevents=1` gets each event as
 * a JSON message of its own instead, `{"id": "berth.build.event", "aux": EVENT}` — shaped as the
 * `{"id": "moby.buildkit.trace", "aux": …}` messages of Docker's BuildKit builds, with the
 * engine's event as JSON (log data in base64) — and the usual `{"error": …}` line on failure.
 * A server that does not know the parameter ignores it and sends the classic lines.
 */
import { unavailable } from "../base/errors.js";
import type { BuildEvent, BuildVertexEvent } from "./types.js";

/** The query parameter a client sets to get the build's events. */
export const BUILD_EVENTS_PARAM = "berthevents";

/** The `id` of a message carrying one event. */
export const BUILD_EVENT_ID = "berth.build.event";

export interface BuildEventMessage {
  readonly id: typeof BUILD_EVENT_ID;
  readonly aux: Readonly<Record<string, unknown>>;
}

export function encodeBuildEvent(e: BuildEvent): BuildEventMessage {
  if (e.kind === "log") {
    return {
      id: BUILD_EVENT_ID,
      aux: { kind: "log", id: e.id, stream: e.stream, data: Buffer.from(e.data).toString("base64") },
    };
  }
  if (e.kind === "result") {
    return { id: BUILD_EVENT_ID, aux: { kind: "result", imageId: e.imageId, tags: [...e.tags] } };
  }
  return {
    id: BUILD_EVENT_ID,
    aux: {
      kind: "vertex",
      id: e.id,
      name: e.name,
      status: e.status,
      ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
    },
  };
}

const STATUSES: ReadonlySet<string> = new Set<BuildVertexEvent["status"]>([
  "started",
  "cached",
  "done",
  "error",
  "canceled",
]);

function isStatus(v: unknown): v is BuildVertexEvent["status"] {
  return typeof v === "string" && STATUSES.has(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The event a message carries: undefined when the message is not one (a classic line), an error
 * when it claims to be one but is malformed (a server speaking another version of this).
 */
export function decodeBuildEvent(message: unknown): BuildEvent | undefined {
  if (!isRecord(message) || message.id !== BUILD_EVENT_ID) return undefined;
  const a = message.aux;
  const bad = () => unavailable(`the engine's build event is not what berth sends: ${JSON.stringify(a)}`);
  if (!isRecord(a) || typeof a.kind !== "string") throw bad();
  if (a.kind === "log") {
    if (typeof a.id !== "number" || (a.stream !== 1 && a.stream !== 2) || typeof a.data !== "string")
      throw bad();
    return { kind: "log", id: a.id, stream: a.stream, data: Buffer.from(a.data, "base64") };
  }
  if (a.kind === "result") {
    const tags = a.tags;
    if (typeof a.imageId !== "string" || !Array.isArray(tags) || !tags.every((t) => typeof t === "string"))
      throw bad();
    return {
      kind: "result",
      imageId: a.imageId,
      tags: tags.filter((t): t is string => typeof t === "string"),
    };
  }
  if (a.kind === "vertex") {
    if (typeof a.id !== "number" || typeof a.name !== "string" || !isStatus(a.status)) throw bad();
    if (a.durationMs !== undefined && typeof a.durationMs !== "number") throw bad();
    if (a.error !== undefined && typeof a.error !== "string") throw bad();
    return {
      kind: "vertex",
      id: a.id,
      name: a.name,
      status: a.status,
      ...(typeof a.durationMs === "number" ? { durationMs: a.durationMs } : {}),
      ...(typeof a.error === "string" ? { error: a.error } : {}),
    };
  }
  throw bad();
}
