/**
 * The page's side of the Docker Engine API, on its own origin (the listener that served it):
 * JSON requests, the event stream, followed logs. Errors become BerthErrors of the kind the
 * status says, with the server's message, as every other client of the API sees them.
 * It never talks to anything but the listener that served the page.
 */
import { BerthError, kindFromHttpStatus } from "../../base/errors.js";
import type { RemovalReader } from "../../engine/removal.js";
import { decodeChanges, decodeContainerDetails, decodeErrorMessage, decodeVolume } from "../view/decode.js";

/** The API version the page speaks (the server's newest). */
const PREFIX = "/v1.50";

async function failure(res: Response, what: string): Promise<BerthError> {
  const text = await res.text().catch(() => "");
  let message: string | undefined;
  try {
    message = decodeErrorMessage(JSON.parse(text));
  } catch {
    message = undefined;
  }
  return new BerthError(kindFromHttpStatus(res.status), message ?? `${what}: HTTP ${res.status}`);
}

export async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(`${PREFIX}${path}`, {
    signal: signal ?? null,
    headers: { Accept: "application/json" },
  });
  if (!res.ok) throw await failure(res, `GET ${path}`);
  return res.json();
}

/** POST or DELETE; the answer's JSON (undefined for an empty answer). */
export async function send(method: "POST" | "DELETE", path: string): Promise<unknown> {
  const res = await fetch(`${PREFIX}${path}`, { method });
  if (!res.ok) throw await failure(res, `${method} ${path}`);
  const text = await res.text();
  return text === "" ? undefined : JSON.parse(text);
}

/** Calls `onLine` with every line of a streamed answer until it ends or `signal` aborts. */
export async function streamLines(
  path: string,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<void> {
  const res = await fetch(`${PREFIX}${path}`, { signal });
  if (!res.ok || !res.body) throw await failure(res, `GET ${path}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== "") onLine(line);
      nl = buf.indexOf("\n");
    }
  }
}

/**
 * A container's log, followed: the raw stream of a TTY container, or Docker's multiplexed frames
 * (8-byte header: stream, 0, 0, 0, big-endian length) otherwise.
 */
export async function followLogs(
  id: string,
  tty: boolean,
  signal: AbortSignal,
  onText: (text: string, stream: "stdout" | "stderr") => void,
): Promise<void> {
  const path = `/containers/${encodeURIComponent(id)}/logs?follow=1&stdout=1&stderr=1&tail=500`;
  const res = await fetch(`${PREFIX}${path}`, { signal });
  if (!res.ok || !res.body) throw await failure(res, `GET ${path}`);
  const reader = res.body.getReader();
  const out = new TextDecoder();
  const err = new TextDecoder();
  let pending = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (tty) {
      onText(out.decode(value, { stream: true }), "stdout");
      continue;
    }
    const joined = new Uint8Array(pending.length + value.length);
    joined.set(pending);
    joined.set(value, pending.length);
    let at = 0;
    while (joined.length - at >= 8) {
      const size = new DataView(joined.buffer, joined.byteOffset + at + 4, 4).getUint32(0);
      if (joined.length - at - 8 < size) break;
      const body = joined.subarray(at + 8, at + 8 + size);
      if (joined[at] === 2) onText(err.decode(body, { stream: true }), "stderr");
      else onText(out.decode(body, { stream: true }), "stdout");
      at += 8 + size;
    }
    pending = joined.slice(at);
  }
}

/** What measuring a removal reads (engine/removal.ts), from this API. */
export const removalReader: RemovalReader = {
  containerInspect: async (id, opts) =>
    decodeContainerDetails(
      await getJson(`/containers/${encodeURIComponent(id)}/json${opts?.size ? "?size=1" : ""}`),
    ),
  containerChanges: async (id) =>
    decodeChanges(await getJson(`/containers/${encodeURIComponent(id)}/changes`)),
  volumeInspect: async (name) => decodeVolume(await getJson(`/volumes/${encodeURIComponent(name)}`)),
};
