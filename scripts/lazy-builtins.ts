/**
 * A step of scripts/bundle.sh: in the bundled CLI, Node's built-in modules that Node does not
 * load for itself at start-up (crypto, child_process, streams, net, http, zlib, dgram, …) and the
 * npm packages bundled as CommonJS (tar-stream, yaml, better-sqlite3's JS) are loaded on first
 * use instead of when the bundle is evaluated. Most commands need few of them (`version` none of
 * crypto, child_process, zlib, dgram, tar-stream or yaml; `berth serve` at idle no child_process,
 * zlib, dgram, tar-stream or yaml), and loading one costs 1–10 ms of CPU at every start.
 *
 * esbuild turns `import { createHash } from "node:crypto"` into `import_node_crypto =
 * require("node:crypto")`, `import { pack } from "tar-stream"` into `import_tar_stream =
 * __toESM(require_tar_stream(), 1)` (the package's CommonJS wrapper, run at the first call), and
 * every use into a property read (`import_node_crypto.createHash`). Such a binding becomes a
 * proxy whose first property read loads the module (then kept, as any require). A binding used
 * in any other way (passed as a value, spread) stays as it was, so the rewrite never changes what
 * a use sees. The packages bundled have no side effects at load that other code relies on. The
 * run fails when fewer than the expected bindings were made lazy, so a change in esbuild's output
 * cannot silently undo this.
 *
 * Usage: node dist/scripts/lazy-builtins.js BUNDLE
 */
import { readFileSync, writeFileSync } from "node:fs";

/** Built-ins worth deferring: not loaded by Node before user code, or costly to load. */
const LAZY = new Set([
  "async_hooks",
  "child_process",
  "crypto",
  "dgram",
  "http",
  "https",
  "net",
  "os",
  "readline",
  "stream",
  "stream/promises",
  "tls",
  "worker_threads",
  "zlib",
]);

/** The helper the bundle's banner defines (scripts/bundle.sh): `__berthLazy(() => module)`. */
export const HELPER = "__berthLazy";

/** Fewer lazy bindings than this means esbuild's output no longer looks as expected. */
const EXPECTED_BUILTINS = 10;
const EXPECTED_PACKAGES = 3;

export interface Rewrite {
  readonly text: string;
  /** The bindings made lazy: built-ins, then bundled packages. */
  readonly lazy: readonly string[];
  readonly lazyPackages: readonly string[];
  /** Candidates left eager because some use is not a property read. */
  readonly kept: readonly string[];
}

interface Candidate {
  /** The assignment as esbuild wrote it (`name=require("node:x")`). */
  readonly assignment: string;
  /** What loads the module, for the helper's thunk. */
  readonly load: string;
  readonly kind: "builtin" | "package";
}

const escapeRegExp = (s: string) => s.replace(/[$()[\]{}.*+?^|\\/]/g, "\\$&");

/** Rewrites the bundle's text; `lazy` and `kept` name the bindings made lazy and left eager. */
export function rewrite(text: string): Rewrite {
  const candidates = new Map<string, Candidate>();
  for (const m of text.matchAll(/([A-Za-z_$][\w$]*)=(require\("(?:node:)?([a-z_/]+)"\))/g)) {
    const [assignment, name, load, mod] = m;
    if (name && load && mod && LAZY.has(mod)) {
      candidates.set(name, { assignment, load: `require("node:${mod}")`, kind: "builtin" });
    }
  }
  // A bundled CommonJS package: its wrapper function runs at the first `require_x()`.
  for (const m of text.matchAll(/([A-Za-z_$][\w$]*)=(__toESM\(require_[\w$]+\(\)(?:,1)?\))/g)) {
    const [assignment, name, load] = m;
    if (name && load) candidates.set(name, { assignment, load, kind: "package" });
  }
  // esbuild hoists a lazily initialised module's bindings into one `var a,import_x,b;`.
  const declarations = new Map<string, number>();
  for (const m of text.matchAll(/(?<![\w$.])var ((?:[A-Za-z_$][\w$]*,)*[A-Za-z_$][\w$]*);/g)) {
    for (const name of m[1]?.split(",") ?? []) declarations.set(name, (declarations.get(name) ?? 0) + 1);
  }
  const lazy: string[] = [];
  const lazyPackages: string[] = [];
  const kept: string[] = [];
  let out = text;
  for (const [name, c] of candidates) {
    const esc = escapeRegExp(name);
    const all = text.match(new RegExp(`(?<![\\w$.])${esc}(?![\\w$])`, "g"))?.length ?? 0;
    const reads = text.match(new RegExp(`(?<![\\w$.])${esc}\\.[A-Za-z_$]`, "g"))?.length ?? 0;
    const assignment = new RegExp(`(?<![\\w$.])${escapeRegExp(c.assignment)}`, "g");
    const assigns = text.match(assignment)?.length ?? 0;
    const declared = declarations.get(name) ?? 0;
    if (assigns === 0 || all !== reads + assigns + declared) {
      kept.push(name);
      continue;
    }
    out = out.replace(assignment, `${name}=${HELPER}(()=>${c.load})`);
    (c.kind === "builtin" ? lazy : lazyPackages).push(name);
  }
  return { text: out, lazy, lazyPackages, kept };
}

function main(argv: readonly string[]): number {
  const [file] = argv;
  if (!file) {
    process.stderr.write("usage: lazy-builtins BUNDLE\n");
    return 2;
  }
  const r = rewrite(readFileSync(file, "latin1"));
  writeFileSync(file, r.text, "latin1");
  if (r.lazy.length < EXPECTED_BUILTINS || r.lazyPackages.length < EXPECTED_PACKAGES) {
    process.stderr.write(
      `lazy-builtins: only ${r.lazy.length} built-in and ${r.lazyPackages.length} package bindings made lazy (kept: ${r.kept.join(", ")}): has esbuild's output changed?\n`,
    );
    return 1;
  }
  return 0;
}

if (process.argv[1]?.endsWith("lazy-builtins.js")) process.exitCode = main(process.argv.slice(2));
