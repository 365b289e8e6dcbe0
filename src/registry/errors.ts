/**
 * Registry errors: the distribution spec's error body (`{"errors":[{"code","message","detail"}]}`)
 * turned into BerthErrors whose messages read as Docker's (`manifest unknown: manifest unknown`,
 * `unauthorized: authentication required`).
 * Pure mapping; it never retries or decides what a failure means to the operation.
 */
import { BerthError, type ErrorKind } from "../base/errors.js";

export const unauthorized = (message: string, cause?: unknown) =>
  new BerthError("Unauthorized", message, { cause });

/** One entry of a registry's error body. */
export interface RegistryErrorEntry {
  readonly code: string;
  readonly message: string;
}

/** Decodes a registry error body; an empty list when it is not one. */
export function parseRegistryErrors(text: string): RegistryErrorEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof v !== "object" || v === null || !("errors" in v) || !Array.isArray(v.errors)) return [];
  const out: RegistryErrorEntry[] = [];
  for (const e of v.errors) {
    if (typeof e !== "object" || e === null) continue;
    const code = "code" in e && typeof e.code === "string" ? e.code : "UNKNOWN";
    const message = "message" in e && typeof e.message === "string" ? e.message : "";
    out.push({ code, message });
  }
  return out;
}

/** distribution's errcode.Error.Error(): `manifest unknown: manifest unknown`. */
export function formatRegistryError(e: RegistryErrorEntry): string {
  const code = e.code.toLowerCase().replaceAll("_", " ");
  return e.message ? `${code}: ${e.message}` : code;
}

/** The kind of error an HTTP status of a registry means. */
export function kindOfStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return "Unauthorized";
  if (status === 404) return "NotFound";
  if (status === 400 || status === 405 || status === 413 || status === 416) return "InvalidArgument";
  if (status === 409) return "Conflict";
  if (status === 429 || status === 502 || status === 503 || status === 504) return "Unavailable";
  return "Internal";
}

/** An error for a registry answer: the registry's own messages, else the status. */
export function registryError(status: number, statusText: string, body: string, prefix?: string): BerthError {
  const entries = parseRegistryErrors(body);
  const detail =
    entries.length > 0
      ? entries.map(formatRegistryError).join(", ")
      : status === 401
        ? "unauthorized: authentication required"
        : `unexpected status ${status} ${statusText}`.trimEnd();
  const kind = kindOfStatus(status);
  return new BerthError(kind, prefix ? `${prefix}: ${detail}` : detail);
}
