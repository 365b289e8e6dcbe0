/**
 * The architecture of DESIGN.md §2 as a test. Every import in src/ must go from a module to one
 * the table allows; the module graph must have no cycle; pure modules must not touch the host.
 * Changing the architecture means changing this table (and docs/architecture.md) in one commit.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

interface ModuleRule {
  /** Modules this one may import (besides itself). */
  readonly imports: readonly string[];
  /** Pure modules import no host module and never read `process`. */
  readonly pure?: boolean;
}

const LOW = ["base"];
const SYS = ["sys", ...LOW];
const FOUNDATION = ["oci", "config", ...SYS];
const STORAGE = ["content", "snapshots", ...FOUNDATION];
const MIDDLE = ["metadata", "diff", "registry", ...STORAGE];
const SERVICES = ["images", "network", "volumes", "runtime", "runtime/spec", ...MIDDLE, "engine"];

/** DESIGN.md §2: imports go downward only. Sub-modules (a/b) are listed where they differ. */
export const MODULES: Readonly<Record<string, ModuleRule>> = {
  base: { imports: [], pure: true },
  sys: { imports: LOW },
  config: { imports: SYS },
  oci: { imports: LOW, pure: true },
  engine: { imports: ["oci", ...LOW], pure: true },
  content: { imports: FOUNDATION },
  snapshots: { imports: FOUNDATION },
  metadata: { imports: [...STORAGE, "engine"] },
  diff: { imports: STORAGE },
  registry: { imports: STORAGE },
  images: { imports: [...MIDDLE, "engine", "builder/dockerfile", "builder/instructions"] },
  network: { imports: [...MIDDLE, "engine"] },
  volumes: { imports: [...MIDDLE, "engine"] },
  "runtime/spec": { imports: ["oci", "engine", ...LOW], pure: true },
  runtime: { imports: ["runtime/spec", ...MIDDLE, "engine"] },
  containers: { imports: SERVICES },
  "builder/dockerfile": { imports: ["oci", ...LOW], pure: true },
  "builder/instructions": { imports: ["builder/dockerfile", "oci", "engine", ...LOW], pure: true },
  builder: { imports: ["builder/dockerfile", "builder/instructions", ...SERVICES] },
  local: { imports: ["containers", "builder", "builder/dockerfile", "builder/instructions", ...SERVICES] },
  api: { imports: ["engine", "oci", ...LOW] },
  client: { imports: ["engine", "oci", ...LOW] },
  "cli/format": { imports: ["engine", "oci", ...LOW], pure: true },
  kube: { imports: ["engine", "oci", ...LOW], pure: true },
  cli: { imports: ["cli/format", "kube", "engine", "oci", "config", ...SYS] },
  // The web view: ui/ serves the page's files; ui/view reads the API's answers into what the page
  // shows; ui/page is the page itself (browser code, bundled by scripts/bundle.sh).
  ui: { imports: LOW },
  "ui/view": { imports: ["engine", "oci", ...LOW], pure: true },
  "ui/page": { imports: ["ui/view", "engine", "cli/format", "oci", ...LOW], pure: true },
  bin: { imports: ["cli", "cli/format", "local", "client", "api", "ui", "engine", "oci", "config", ...SYS] },
};

/** Node built-ins a pure module may use: they compute, they do not reach the host. */
const PURE_BUILTINS = new Set([
  "node:crypto",
  "node:buffer",
  "node:util",
  "node:path",
  "node:string_decoder",
]);
const NODE_BUILTIN =
  /^node:|^(fs|path|os|child_process|net|http|https|crypto|stream|util|events|zlib|url|dgram|worker_threads|process|readline|tty|buffer)(\/|$)/;

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/, the sources live two levels up; run from sources, one level up.
const repo = [resolve(here, ".."), resolve(here, "../..")].find((d) => {
  try {
    return statSync(join(d, "src")).isDirectory() && statSync(join(d, "package.json")).isFile();
  } catch {
    return false;
  }
});
assert.ok(repo, "cannot find the repository root from the test");
const srcRoot = join(repo, "src");

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if ((name.endsWith(".ts") || name.endsWith(".cts")) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** The module a source file belongs to: the longest table key that prefixes its path. */
export function moduleOf(relPath: string): string | undefined {
  const parts = relPath.split(sep).join("/").split("/");
  for (let n = parts.length - 1; n >= 1; n--) {
    const key = parts.slice(0, n).join("/");
    if (key in MODULES) return key;
  }
  return undefined;
}

/**
 * Test code: a unit test (`x.test.ts`) or a test-only helper module (`test-support.ts`), which
 * tests share and which may use node:assert even in a pure module; no other file may import one.
 */
export function isTestFile(relPath: string): boolean {
  return /\.test\.ts$|(^|[\\/])test-support\.ts$/.test(relPath);
}

function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re =
    /(?:^|[;\s])(?:import|export)\s[^'"`;]*?from\s*["']([^"']+)["']|(?:^|[;\s])import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec) specs.push(spec);
  }
  return specs;
}

interface Edge {
  from: string;
  to: string;
  file: string;
  spec: string;
}

function scan(): { files: string[]; edges: Edge[]; problems: string[] } {
  const files = listTs(srcRoot);
  const edges: Edge[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const rel = relative(srcRoot, file);
    const mod = moduleOf(rel);
    if (!mod) {
      problems.push(`${rel}: not in any module of the table`);
      continue;
    }
    const rule = MODULES[mod]!;
    const text = readFileSync(file, "utf8");
    const isTest = isTestFile(rel);
    for (const spec of importsOf(text)) {
      if (spec.startsWith(".")) {
        const target = relative(srcRoot, resolve(dirname(file), spec));
        if (target.startsWith("..")) {
          problems.push(`${rel}: imports ${spec}, outside src/`);
          continue;
        }
        if (!isTest && isTestFile(target.replace(/\.js$/, ".ts"))) {
          problems.push(`${rel}: imports ${spec}, a test-only module`);
        }
        const toMod = moduleOf(target);
        if (!toMod) {
          problems.push(`${rel}: imports ${spec}, which is in no module`);
          continue;
        }
        edges.push({ from: mod, to: toMod, file: rel, spec });
        if (toMod !== mod && !rule.imports.includes(toMod)) {
          problems.push(`${rel}: module ${mod} may not import ${toMod} (${spec})`);
        }
      } else if (rule.pure && !isTest && NODE_BUILTIN.test(spec) && !PURE_BUILTINS.has(spec)) {
        problems.push(`${rel}: pure module ${mod} imports host module ${spec}`);
      } else if (rule.pure && !isTest && !NODE_BUILTIN.test(spec) && spec === "better-sqlite3") {
        problems.push(`${rel}: pure module ${mod} imports ${spec}`);
      }
    }
    if (rule.pure && !isTest && /\bprocess\.(env|argv|cwd|exit|stdout|stderr|stdin|kill|pid)\b/.test(text)) {
      problems.push(`${rel}: pure module ${mod} reads the process`);
    }
  }
  return { files, edges, problems };
}

function findCycle(edges: readonly Edge[]): string[] | undefined {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const s = graph.get(e.from) ?? new Set<string>();
    s.add(e.to);
    graph.set(e.from, s);
  }
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "visiting");
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of graph.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

test("every source file is in a module and imports only what the table allows", () => {
  const { files, problems } = scan();
  assert.ok(files.length > 0, "no sources found");
  assert.deepEqual(problems, []);
});

test("the module graph has no cycle", () => {
  const { edges } = scan();
  assert.equal(findCycle(edges)?.join(" → "), undefined);
});

test("the table itself has no cycle and names only known modules", () => {
  const edges: Edge[] = [];
  for (const [from, rule] of Object.entries(MODULES)) {
    for (const to of rule.imports) {
      assert.ok(to in MODULES, `${from} lists unknown module ${to}`);
      edges.push({ from, to, file: "", spec: "" });
    }
  }
  assert.equal(findCycle(edges), undefined);
});

test("the checker catches a disallowed import, a cycle and a host import in a pure module", () => {
  assert.ok(!MODULES.oci!.imports.includes("content"), "oci must not import content");
  assert.deepEqual(
    findCycle([
      { from: "a", to: "b", file: "", spec: "" },
      { from: "b", to: "a", file: "", spec: "" },
    ]),
    ["a", "b", "a"],
  );
  assert.deepEqual(
    importsOf('import { x } from "../content/store.js";\nimport "node:fs";\nawait import("node:net");'),
    ["../content/store.js", "node:fs", "node:net"],
  );
  assert.ok(NODE_BUILTIN.test("node:fs") && !PURE_BUILTINS.has("node:fs"));
  assert.equal(moduleOf("runtime/spec/seccomp.ts"), "runtime/spec");
  assert.equal(moduleOf("runtime/driver.ts"), "runtime");
  assert.ok(isTestFile("base/test-support.ts") && isTestFile("oci/image.test.ts"));
  assert.ok(!isTestFile("base/errors.ts") && !isTestFile("base/test-supportive.ts"));
});

/**
 * The runtime boundary: runc and conmon are launched only inside runtime/ (conmon.ts, runc.ts,
 * exec-launch.ts, behind the Runtime interface of runtime.ts). containers/ sees only that
 * interface; the concrete driver is named by the composition root (local/) and by builder/, whose
 * steps run on a driver of their own.
 */
test("runc and conmon launchers are reached only through the Runtime interface", () => {
  const launchers = /(^|\/)runtime\/(conmon|runc|exec-launch|driver)\.js$/;
  const allowed = new Set(["local", "builder", "runtime"]);
  const problems: string[] = [];
  for (const file of listTs(srcRoot)) {
    const rel = relative(srcRoot, file).split(sep).join("/");
    if (rel.endsWith(".test.ts")) continue;
    const mod = moduleOf(rel) ?? "";
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (!launchers.test(spec)) continue;
      const driverOnly = spec.endsWith("/driver.js");
      if (mod === "runtime" || (driverOnly && allowed.has(mod))) continue;
      problems.push(`${rel} imports ${spec}`);
    }
  }
  assert.deepEqual(problems, []);
});

/** Child processes are started through sys/ (exec.ts, lock.ts) only. */
test("only sys/ spawns processes", () => {
  const problems: string[] = [];
  for (const file of listTs(srcRoot)) {
    const rel = relative(srcRoot, file).split(sep).join("/");
    if (rel.endsWith(".test.ts") || rel.startsWith("sys/")) continue;
    if (importsOf(readFileSync(file, "utf8")).includes("node:child_process"))
      problems.push(`${rel} imports node:child_process`);
  }
  assert.deepEqual(problems, []);
});
