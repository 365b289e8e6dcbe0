/**
 * `.dockerignore`: which paths of the build context are not sent to the builder, with the rules of
 * moby/patternmatcher (its `ignorefile.ReadAll` for the file and `MatchesOrParentMatches` for a
 * path), which Docker and BuildKit use:
 *
 * - One pattern a line. A line starting with `#` (in the first column) is a comment; blank lines
 *   are skipped; surrounding blanks are trimmed. Patterns are cleaned like Go's `path.Clean`
 *   (`./a//b/` → `a/b`, `a/../b` → `b`) and a leading `/` is dropped: patterns are relative to
 *   the context root (`/abs` and `abs` are the same pattern).
 * - `*` matches any run of characters except `/`, `?` one character except `/`, `[...]` a
 *   character class, `\` escapes the next character. `**` matches any number of directories,
 *   zero included (`**\/*.go` matches `a.go` and `x/y/a.go`); a trailing `**` matches everything
 *   below (`dir/**` matches all under `dir`, not `dir` itself).
 * - A pattern matching a directory matches everything under it (`dir` excludes `dir/a/b`).
 * - `!pattern` re-includes what it matches. Patterns apply in order and the last one that
 *   matches a path decides (`*.md` then `!README*.md` keeps `README.md`).
 *
 * Docker always sends the Dockerfile and the `.dockerignore` file to the builder even when a
 * pattern excludes them (they are read for the build, not copied by it): that is the executor's
 * concern — it must read both from the context before applying this matcher to the walk, and
 * COPY/ADD must still not see them when they are excluded.
 *
 * Pure: paths are strings relative to the context root, `/`-separated, without a leading `./`.
 */
import { invalidArgument } from "../../base/errors.js";

export interface IgnoreMatcher {
  /** True when `path` (relative to the context root) is excluded from the context. */
  ignores(path: string): boolean;
  /**
   * True when some `!` pattern might re-include a path under this excluded dir, so a walker must
   * descend into it (and check each entry with `ignores`) instead of skipping it whole. It may
   * say true when nothing turns out to be re-included; it never says false when something could
   * be. A walker that keeps a re-included file must also keep the directories on its way.
   */
  mayIncludeUnder(dir: string): boolean;
}

/** Go's path.Clean for `/`-separated paths. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? "/" : "") + out.join("/");
  return s === "" ? "." : s;
}

/** The patterns of a `.dockerignore` file, in order, cleaned (`!` kept in front of exceptions). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).replace(/\r$/, "");
    if (i === 0 && line.startsWith("\uFEFF")) line = line.slice(1);
    if (line.startsWith("#")) continue;
    let pattern = line.trim();
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern !== "") {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

type MatchType = "exact" | "prefix" | "suffix" | "regexp";

interface Pattern {
  readonly exclusion: boolean;
  readonly cleaned: string;
  readonly segments: readonly string[];
  readonly type: MatchType;
  readonly re: RegExp | undefined;
}

/** Regular-expression characters that mean nothing to filepath.Match and are escaped. */
const ESCAPED = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/** Fails on what Go's filepath.Match calls a malformed pattern (bad class, trailing `\`). */
function checkSyntax(p: string): void {
  const bad = () => invalidArgument(`syntax error in pattern: ${p}`);
  let i = 0;
  /** One class character (escapes allowed); `-`, `]` and the end are errors here. */
  const classChar = () => {
    let c = p[i];
    if (c === "\\") c = p[++i];
    else if (c === "-" || c === "]") throw bad();
    if (c === undefined) throw bad();
    i++;
  };
  while (i < p.length) {
    const ch = p[i++];
    if (ch === "\\") {
      if (i >= p.length) throw bad();
      i++;
    } else if (ch === "[") {
      if (p[i] === "^") i++;
      for (let n = 0; ; n++) {
        if (p[i] === "]" && n > 0) break;
        classChar();
        if (p[i] === "-") {
          i++;
          classChar();
        }
      }
      i++; // ]
    }
  }
}

/** moby/patternmatcher's Pattern.compile. */
function compile(cleaned: string, exclusion: boolean): Pattern {
  let src = "^";
  let type: MatchType = "exact";
  const chars = Array.from(cleaned);
  for (let i = 0, k = 0; k < chars.length; i++) {
    const ch = chars[k++] as string;
    if (ch === "*") {
      if (chars[k] === "*") {
        k++;
        if (chars[k] === "/") k++; // `**/` is `**`
        if (k >= chars.length) {
          // a trailing `**` accepts everything, as .gitignore does
          if (type === "exact") type = "prefix";
          else {
            src += ".*";
            type = "regexp";
          }
        } else {
          src += "(.*/)?";
          type = "regexp";
        }
        if (i === 0) type = "suffix";
      } else {
        src += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      src += "[^/]";
      type = "regexp";
    } else if (ESCAPED.has(ch)) src += `\\${ch}`;
    else if (ch === "\\") {
      const next = chars[k];
      if (next !== undefined) {
        k++;
        src += /[A-Za-z0-9_]/.test(next) ? next : `\\${next}`;
        type = "regexp";
      } else src += "\\\\";
    } else if (ch === "[" || ch === "]") {
      src += ch;
      type = "regexp";
    } else src += ch;
  }
  let re: RegExp | undefined;
  if (type === "regexp") {
    try {
      re = new RegExp(`${src}$`);
    } catch (err) {
      throw invalidArgument(`syntax error in pattern: ${cleaned}`, err);
    }
  }
  return { exclusion, cleaned, segments: cleaned.split("/"), type, re };
}

function matches(p: Pattern, path: string): boolean {
  switch (p.type) {
    case "exact":
      return path === p.cleaned;
    case "prefix":
      return path.startsWith(p.cleaned.slice(0, -2));
    case "suffix": {
      const suffix = p.cleaned.slice(2);
      return path.endsWith(suffix) || (suffix.startsWith("/") && path === suffix.slice(1));
    }
    case "regexp":
      return p.re?.test(path) ?? false;
  }
}

/** Whether one path segment can match one pattern segment (no `**`, no `/`). */
function segmentMatches(patternSegment: string, segment: string): boolean {
  return matches(compile(patternSegment, false), segment);
}

/**
 * Compiles patterns (as `parseDockerignore` returns them) into a matcher. Throws InvalidArgument
 * for a lone `!` or a malformed pattern.
 */
export function compileIgnore(patterns: readonly string[]): IgnoreMatcher {
  const compiled: Pattern[] = [];
  for (const raw of patterns) {
    let p = raw.trim();
    if (p === "") continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith("!")) {
      if (p.length === 1) throw invalidArgument('illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    checkSyntax(p);
    compiled.push(compile(p, exclusion));
  }
  const exclusions = compiled.filter((p) => p.exclusion);

  return {
    ignores(path: string): boolean {
      const file = cleanPath(path);
      if (file === "." || compiled.length === 0) return false;
      // The parent directories, outermost first: `a`, `a/b` for `a/b/c`.
      const parents: string[] = [];
      for (let i = file.indexOf("/"); i > 0; i = file.indexOf("/", i + 1)) parents.push(file.slice(0, i));
      let matched = false;
      for (const p of compiled) {
        // An include pattern cannot change an excluded path, nor an exception an included one.
        if (p.exclusion !== matched) continue;
        if (matches(p, file) || parents.some((dir) => matches(p, dir))) matched = !p.exclusion;
      }
      return matched;
    },

    mayIncludeUnder(dir: string): boolean {
      const d = cleanPath(dir);
      const dirSegments = d === "." ? [] : d.split("/");
      return exclusions.some((p) => {
        // `**` reaches any depth; a class may match `/`: assume they can.
        if (p.cleaned.includes("**") || p.cleaned.includes("[")) return true;
        const n = Math.min(p.segments.length, dirSegments.length);
        for (let i = 0; i < n; i++) {
          if (!segmentMatches(p.segments[i] as string, dirSegments[i] as string)) return false;
        }
        return true;
      });
    },
  };
}
