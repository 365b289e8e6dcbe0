/**
 * Names inside layer tars: normalisation, containment and whiteout classification (OCI image
 * spec, "Whiteouts"). Pure string functions; the filesystem side lives in `apply.ts`.
 */
import { posix } from "node:path";
import { invalidArgument } from "../base/errors.js";

/** Prefix of a whiteout file name. */
export const WHITEOUT_PREFIX = ".wh.";
/** Prefix of whiteout metadata names (aufs); never applied. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";
/** The opaque whiteout marker: hides everything lower layers put in its directory. */
export const OPAQUE_MARKER = ".wh..wh..opq";

/**
 * Normalises a tar entry name (or hardlink target) to its components relative to the layer
 * root: leading `/` and `./` are dropped and `.`/`..` are cleaned lexically. An empty result is
 * the root itself. A name that is `..` or climbs above the root is rejected, as is one with a
 * NUL byte.
 */
export function normalizeEntryName(name: string): string[] {
  if (name.includes("\0"))
    throw invalidArgument(`invalid tar entry: name contains a NUL byte: ${quote(name)}`);
  const cleaned = posix.normalize(`/${name}`);
  // Cleaning "/"+name lexically would clamp "../x" to "/x"; detect the climb first.
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0)
        throw invalidArgument(`invalid tar entry: path escapes the layer: ${quote(name)}`);
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  // Both computations must agree; a mismatch would be a bug in one of them.
  const joined = `/${parts.join("/")}`;
  if (joined !== cleaned && `${joined}/` !== cleaned) {
    throw invalidArgument(`invalid tar entry: cannot normalise name: ${quote(name)}`);
  }
  return parts;
}

/** What a base name means for whiteout processing. */
export type WhiteoutKind =
  | { kind: "none" }
  | { kind: "opaque" }
  | { kind: "meta" }
  | { kind: "whiteout"; target: string };

/**
 * Classifies a base name: ordinary, opaque marker, aufs metadata (ignored), or a whiteout of
 * `target`. `.wh.`, `.wh..` and `.wh...` (which would name the directory itself or its parent)
 * are rejected.
 */
export function classifyWhiteout(base: string, fullName: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: "none" };
  if (base === OPAQUE_MARKER) return { kind: "opaque" };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: "meta" };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === "" || target === "." || target === "..") {
    throw invalidArgument(`invalid tar entry: invalid whiteout name: ${quote(fullName)}`);
  }
  return { kind: "whiteout", target };
}

/** Quotes a name for an error message (one line, control characters escaped). */
export function quote(name: string): string {
  return JSON.stringify(name);
}
