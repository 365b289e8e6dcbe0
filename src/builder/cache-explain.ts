/**
 * Why a build step missed the cache, in one line: the builder records what each step saw (the
 * inputs of its cache key) by the step's place in a build, and when a step runs although the
 * previous build of that place was cached, compares the two records. Pure: the builder reads and
 * writes the records (metadata/build-cache.ts `build_steps`) and prints the line under the step.
 *
 * The first difference found is the one named, in the order a user reads a cause: the cache
 * disabled (`--no-cache`), the record's own cache row gone (`builder prune`), the base image,
 * a build argument, an environment value, the copied files (by path), the instruction itself, and
 * last the parent (an earlier step that ran again).
 */

/** What a step's cache key was made of. */
export interface StepInputs {
  readonly key: string;
  readonly parentKey: string;
  /** The instruction as it runs (its history text, variables expanded). */
  readonly instruction: string;
  /** What the stage starts from: `image@sha256:…`, `scratch`, or `stage <name>`. */
  readonly base: string;
  /** Build arguments in scope, with their values. */
  readonly args: Readonly<Record<string, string>>;
  /** The stage's environment (ENV and the base image's). */
  readonly env: Readonly<Record<string, string>>;
  /** COPY/ADD: digest of each copied file by its source path. */
  readonly files: Readonly<Record<string, string>>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function strings(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string") return undefined;
    out[k] = x;
  }
  return out;
}

/** Reads a stored record; undefined when it is not one (an older or damaged row is ignored). */
export function parseStepInputs(text: string): StepInputs | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  const { key, parentKey, instruction, base } = v;
  const args = strings(v.args);
  const env = strings(v.env);
  const files = strings(v.files);
  if (
    typeof key !== "string" ||
    typeof parentKey !== "string" ||
    typeof instruction !== "string" ||
    typeof base !== "string" ||
    !args ||
    !env ||
    !files
  )
    return undefined;
  return { key, parentKey, instruction, base, args, env, files };
}

export interface MissContext {
  /** `--no-cache` was given. */
  readonly noCache: boolean;
  /** The step before this one in the stage that ran (was not cached), as progress names it. */
  readonly ranBefore: string | undefined;
}

/** How many paths one line names before "and N more". */
const SHOWN = 3;

function quoted(v: string | undefined): string {
  return v === undefined ? "unset" : JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
}

function changedValue(
  kind: string,
  prev: Record<string, string>,
  cur: Record<string, string>,
): string | undefined {
  const names = [...new Set([...Object.keys(prev), ...Object.keys(cur)])].sort();
  const changed = names.filter((n) => prev[n] !== cur[n]);
  const first = changed[0];
  if (first === undefined) return undefined;
  const more = changed.length > 1 ? ` (and ${changed.slice(1).join(", ")})` : "";
  return `${kind} ${first} changed: ${quoted(prev[first])} → ${quoted(cur[first])}${more}`;
}

function list(paths: readonly string[]): string {
  const shown = paths.slice(0, SHOWN).join(", ");
  return paths.length > SHOWN ? `${shown} and ${paths.length - SHOWN} more` : shown;
}

function changedFiles(
  prev: Readonly<Record<string, string>>,
  cur: Readonly<Record<string, string>>,
): string | undefined {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [p, d] of Object.entries(cur)) {
    if (!(p in prev)) added.push(p);
    else if (prev[p] !== d) changed.push(p);
  }
  for (const p of Object.keys(prev)) if (!(p in cur)) removed.push(p);
  const parts: string[] = [];
  if (changed.length > 0)
    parts.push(`${changed.length === 1 ? "file" : "files"} changed: ${list(changed.sort())}`);
  if (added.length > 0) parts.push(`${added.length === 1 ? "file" : "files"} added: ${list(added.sort())}`);
  if (removed.length > 0)
    parts.push(`${removed.length === 1 ? "file" : "files"} removed: ${list(removed.sort())}`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/**
 * Why a step that ran was not a cache hit, given what the same place saw last time; undefined
 * when there was no earlier build of it (nothing to compare with).
 */
export function explainMiss(
  prev: StepInputs | undefined,
  cur: StepInputs,
  ctx: MissContext,
): string | undefined {
  if (ctx.noCache) return "--no-cache: the build cache was not used";
  if (!prev) return undefined;
  if (prev.key === cur.key) return "its cache record was removed (builder prune) or its layer is gone";
  if (prev.base !== cur.base) return `base changed: ${prev.base} → ${cur.base}`;
  const reason =
    changedValue("build argument", prev.args, cur.args) ??
    changedValue("environment value", prev.env, cur.env) ??
    changedFiles(prev.files, cur.files);
  if (reason) return reason;
  if (prev.instruction !== cur.instruction) return `instruction changed, was: ${prev.instruction}`;
  if (ctx.ranBefore) return `parent changed: ${ctx.ranBefore} ran again`;
  return "parent changed: an earlier step or stage was rebuilt";
}
