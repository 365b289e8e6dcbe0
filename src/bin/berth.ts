/**
 * The `berth` executable: wires the CLI to an engine. Without --host it runs the engine in this
 * process (daemonless); `berth serve` puts the same engine behind the Docker Engine API
 * (./serve.ts); remote engines come with the API issue.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { notImplemented } from "../base/errors.js";
import { type GlobalOptions, runCli } from "../cli/main.js";
import { hostPlatform } from "../config/host.js";
import { resolveRoots } from "../config/roots.js";
import { openLocalEngine } from "../local/engine.js";
import { runServe } from "./serve.js";

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
    if (typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string")
      return pkg.version;
  } catch {
    // fall through
  }
  return "dev";
}

function rootsOf(global: GlobalOptions) {
  return resolveRoots({ root: global.root, runroot: global.runroot, env: process.env });
}

function openLocal(global: GlobalOptions) {
  return openLocalEngine({
    roots: rootsOf(global),
    hostPlatform: hostPlatform(),
    // conmon's exit command runs this same entry script with this same Node.js.
    ...(global.existingStore ? { existingStore: true } : {}),
    berthScript: fileURLToPath(new URL("../../../bin/berth", import.meta.url)),
    version: packageVersion(),
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  // A reader that goes away (`berth images | head`) is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
  });
  return runCli(argv, {
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
      cwd: process.cwd(),
      signals: {
        subscribe: (signals, handler) => {
          for (const s of signals) process.on(s, handler);
          return () => {
            for (const s of signals) process.off(s, handler);
          };
        },
        raise: (signal) => process.kill(process.pid, signal),
      },
    },
    version: packageVersion(),
    openEngine: async (global) => {
      if (global.host) throw notImplemented(`remote engines (--host ${global.host}) are not supported yet`);
      return openLocal(global);
    },
    serve: (req, global) =>
      runServe(req, global, {
        roots: rootsOf(global),
        version: packageVersion(),
        openEngine: () => openLocal(global),
        stderr: process.stderr,
        // The web view's files, built by scripts/bundle.sh into dist/ui/ (beside dist/src/).
        uiDir: fileURLToPath(new URL("../../ui/", import.meta.url)),
      }),
  });
}
