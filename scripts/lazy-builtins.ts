/**
 * A step of scripts/bundle.sh: in the bundled CLI, Node's built-in modules that Node does not
 * load for itself at start-up (crypto, child_process, streams, net, http, zlib, dgram, …) are
 * loaded on first use instead of when the bundle is evaluated. Most commands need few of them
 * (`version` none of crypto, child_process, zlib or dgram; `berth serve` at idle no
 * child_process, zlib or dgram), and loading one costs 1–10 ms of CPU at every start.
 *
 * esbuild turns `import { createHash } from "node:crypto"` into `import_node_crypto =
 * require("node:crypto")` and every use into a property read (`import_node_crypto.createHash`).
 * Such a binding becomes a proxy whose first property read requires the module (then cached, as
 * any require). A binding used in any other way (passed as a value, spread) stays as it was, so
 * the rewrite never changes what a use sees; `--check` fails when fewer than the expected
 * bindings were made lazy, so a change in esbuild's output cannot silently undo this.
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

/** The helper the bundle's banner defines (scripts/bundle.sh). */
export const HELPER = "__berthLazy";

export interface Rewrite {
  readonly text: string;
  readonly lazy: readonly string[];
  readonly kept: readonly string[];
}

/** Rewrites the bundle's text; `lazy` and `kept` name the bindings made lazy and left eager. */
export function rewrite(text: string): Rewrite {
  const assign = /([A-Za-z_$][\w$]*)=require\("(?:node:)?([a-z_/]+)"\)/g;
  const candidates = new Map<string, string>();
  for (const m of text.matchAll(assign)) {
    const [, name, mod] = m;
    if (name && mod && LAZY.has(mod)) candidates.set(name, mod);
  }
  // esbuild hoists a lazily initialised module's bindings into one `var a,import_x,b;`.
  const declarations = new Map<string, number>();
  for (const m of text.matchAll(/(?<![\w$.])var ((?:[A-Za-z_$][\w$]*,)*[A-Za-z_$][\w$]*);/g)) {
    for (const name of m[1]?.split(",") ?? []) declarations.set(name, (declarations.get(name) ?? 0) + 1);
  }
  const lazy: string[] = [];
  const kept: string[] = [];
  let out = text;
  for (const [name, mod] of candidates) {
    const esc = name.replace(/\$/g, "\\$");
    const all = text.match(new RegExp(`(?<![\\w$.])${esc}(?![\\w$])`, "g"))?.length ?? 0;
    const reads = text.match(new RegExp(`(?<![\\w$.])${esc}\\.[A-Za-z_$]`, "g"))?.length ?? 0;
    const assigns = text.match(new RegExp(`(?<![\\w$.])${esc}=require\\(`, "g"))?.length ?? 0;
    const declared = declarations.get(name) ?? 0;
    if (all !== reads + assigns + declared) {
      kept.push(name);
      continue;
    }
    out = out.replace(
      new RegExp(`(?<![\\w$.])${esc}=require\\("(?:node:)?${mod.replace("/", "\\/")}"\\)`, "g"),
      `${name}=${HELPER}("node:${mod}")`,
    );
    lazy.push(name);
  }
  return { text: out, lazy, kept };
}

function main(argv: readonly string[]): number {
  const [file] = argv;
  if (!file) {
    process.stderr.write("usage: lazy-builtins BUNDLE\n");
    return 2;
  }
  const r = rewrite(readFileSync(file, "latin1"));
  writeFileSync(file, r.text, "latin1");
  if (r.lazy.length < 10) {
    process.stderr.write(
      `lazy-builtins: only ${r.lazy.length} built-in bindings made lazy (kept: ${r.kept.join(", ")}): has esbuild's output changed?\n`,
    );
    return 1;
  }
  return 0;
}

if (process.argv[1]?.endsWith("lazy-builtins.js")) process.exitCode = main(process.argv.slice(2));
