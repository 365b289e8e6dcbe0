/**
 * How bin/berth starts the CLI. From the bundle scripts/bundle.sh makes (berth.bundle.cjs beside
 * this file: one file instead of ~200 modules to resolve and load) compiled with V8's code cache,
 * which this module keeps beside the bundle (Node 20 has no compile cache of its own; this is
 * what `module.enableCompileCache()` does on Node 22). From the compiled modules when there is no
 * bundle or it is older than them (a plain `tsc` build), so a stale bundle never runs, and when
 * BERTH_NO_BUNDLE=1 (debugging; before/after measurements).
 *
 * CommonJS (a .cts file, bin/berth too): Node then starts without its ES module loader, another
 * ~10 ms of CPU per command; the compiled modules are loaded with import() when needed.
 *
 * The cache file is named after the bundle's size and mtime: V8 checks only the source's length
 * before using a cache, so a cache must never outlive the exact bundle it was made from. It is
 * written once (temp → rename) by the first process that finds none, after its command ran, so it
 * holds the functions that command compiled too.
 */
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";

type Main = (argv: readonly string[]) => Promise<number>;

interface Loaded {
  readonly main: Main;
  /** Writes the code cache when there was none (or V8 refused it); never throws. */
  readonly saveCache: () => void;
}

function loadBundle(bundle: string, modulesMtimeMs: number): Loaded | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(bundle);
  } catch {
    return undefined;
  }
  if (st.mtimeMs < modulesMtimeMs) return undefined;
  const cacheFile = `${bundle}.${st.size}-${Math.trunc(st.mtimeMs)}.cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundle is the CommonJS wrapper function, as Node's own loader compiles a module
  // (scripts/bundle.sh writes it so: the source is held once, as the file reads). It is ASCII
  // (bundle.sh checks), so read as Latin-1: no UTF-8 decoding.
  const script = new Script(readFileSync(bundle, "latin1"), {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  // V8 has read the cache; the buffer is not kept for the life of the process (berth serve's).
  const hadCache = cachedData !== undefined;
  cachedData = undefined;
  const wrapper: unknown = script.runInThisContext();
  if (typeof wrapper !== "function") return undefined;
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  wrapper.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  const main = mod.exports.main;
  if (typeof main !== "function") return undefined;
  return {
    main: async (argv) => {
      const code: unknown = await main(argv);
      return typeof code === "number" ? code : 125;
    },
    saveCache: () => {
      if (hadCache && !script.cachedDataRejected) return;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // A read-only installation runs without a cache.
        try {
          unlinkSync(tmp);
        } catch {
          // nothing to remove
        }
      }
    },
  };
}

/** Runs the CLI with these arguments; resolves to its exit code. */
export async function launch(argv: readonly string[]): Promise<number> {
  const modules = join(__dirname, "berth.js");
  const bundled =
    process.env.BERTH_NO_BUNDLE === "1"
      ? undefined
      : loadBundle(join(__dirname, "berth.bundle.cjs"), statSync(modules).mtimeMs);
  if (!bundled) return (await import("./berth.js")).main(argv);
  const code = await bundled.main(argv);
  bundled.saveCache();
  return code;
}
