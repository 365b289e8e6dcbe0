/**
 * The `berth` executable: wires the CLI to an engine. Without --host it runs the engine in this
 * process (daemonless); `berth serve` puts the same engine behind the Docker Engine API
 * (./serve.ts). With `-H`/`--host` or BERTH_HOST it is a client of such a server instead
 * (src/client/, as `podman --remote`): every command goes through the Docker API, and what only
 * the local store can do (`serve` itself, conmon's `container cleanup`) is refused.
 * It owns start-up only (the roots, the host, which engine); it never implements a command
 * (src/cli/ does) nor an engine operation.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { errnoCode, invalidArgument, notImplemented } from "../base/errors.js";
import { type GlobalOptions, runCli } from "../cli/main.js";
import { hostPlatform } from "../config/host.js";
import { resolveRoots } from "../config/roots.js";

/**
 * Each mode loads only its own half: the local engine (daemonless commands and `serve`), the API
 * server (`serve`), or the API client (`-H`). A `berth serve` then never holds the client, and
 * a client never the store's services.
 */
const lazy = {
  local: () => import("../local/engine.js"),
  client: () => import("../client/engine.js"),
  transport: () => import("../client/transport.js"),
  serve: () => import("./serve.js"),
};
type HostTarget = import("../client/transport.js").HostTarget;

let version: string | undefined;

/** berth's version from its package.json, read once. */
function packageVersion(): string {
  version ??= readVersion();
  return version;
}

function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
    if (typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string")
      return pkg.version;
  } catch {
    // fall through
  }
  return "dev";
}

/**
 * better-sqlite3's compiled addon, named for it (metadata/db.ts `addon`): where npm builds or
 * installs it, in the package's build/Release; undefined if it is not there. The package is
 * looked for in berth's own node_modules first (one stat), then resolved as Node would.
 */
function sqliteAddon(): string | undefined {
  const addon = (pkgDir: string) => join(pkgDir, "build", "Release", "better_sqlite3.node");
  const own = addon(fileURLToPath(new URL("../../../node_modules/better-sqlite3/", import.meta.url)));
  if (existsSync(own)) return own;
  try {
    const found = addon(dirname(createRequire(import.meta.url).resolve("better-sqlite3/package.json")));
    return existsSync(found) ? found : undefined;
  } catch {
    return undefined;
  }
}

function rootsOf(global: GlobalOptions) {
  return resolveRoots({ root: global.root, runroot: global.runroot, env: process.env });
}

async function openLocal(global: GlobalOptions) {
  const { openLocalEngine } = await lazy.local();
  const addon = sqliteAddon();
  return openLocalEngine({
    roots: rootsOf(global),
    hostPlatform: hostPlatform(),
    // conmon's exit command runs this same entry script with this same Node.js.
    ...(global.existingStore ? { existingStore: true } : {}),
    berthScript: fileURLToPath(new URL("../../../bin/berth", import.meta.url)),
    version: packageVersion(),
    ...(addon ? { sqliteAddon: addon } : {}),
  });
}

/**
 * The engine to use over the API, or undefined for the local store: `-H` first, then BERTH_HOST
 * (unless --root/--runroot name a local store). `-H` with --root or --runroot is refused: those
 * name a store on this host, which a remote engine does not use.
 */
export function remoteHost(global: GlobalOptions, env: NodeJS.ProcessEnv): string | undefined {
  const local = global.root !== undefined || global.runroot !== undefined;
  if (global.host !== undefined) {
    if (local) {
      throw invalidArgument(
        "--root and --runroot name a local store: they cannot be used with -H/--host (a remote engine)",
      );
    }
    return global.host;
  }
  const fromEnv = env.BERTH_HOST;
  return !local && fromEnv ? fromEnv : undefined;
}

async function pem(
  path: string | undefined,
  fallback: string,
  required: boolean,
): Promise<Buffer | undefined> {
  const file = path ?? join(process.env.DOCKER_CERT_PATH ?? join(homedir(), ".docker"), fallback);
  try {
    return await readFile(file);
  } catch (err) {
    if (!required && path === undefined && errnoCode(err) === "ENOENT") return undefined;
    throw invalidArgument(`could not read TLS file ${file}: ${errnoCode(err) ?? String(err)}`);
  }
}

async function hostTarget(host: string, global: GlobalOptions): Promise<HostTarget> {
  const tls = global.tls ?? (process.env.DOCKER_TLS_VERIFY ? { verify: true } : undefined);
  const parsed = (await lazy.transport()).parseHost(host, tls !== undefined);
  if (parsed.kind === "unix") {
    if (global.tls) throw invalidArgument("TLS options apply to tcp:// hosts, not to a unix socket");
    return parsed;
  }
  if (!tls) return parsed;
  const [ca, cert, key] = await Promise.all([
    pem(tls.ca, "ca.pem", tls.verify),
    pem(tls.cert, "cert.pem", false),
    pem(tls.key, "key.pem", false),
  ]);
  return {
    ...parsed,
    tls: { verify: tls.verify, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) },
  };
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
      // Made when a command reads it: Node builds a stream (and, on a pipe, a handle) for it on
      // first access, which commands that never read their input (and serve, for its lifetime)
      // should not pay for.
      get stdin() {
        return process.stdin;
      },
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
      const host = remoteHost(global, process.env);
      if (host === undefined) return openLocal(global);
      if (global.existingStore) {
        throw notImplemented(
          "container cleanup is conmon's exit command on the engine's host: it cannot run against a remote engine",
        );
      }
      const { openRemoteEngine } = await lazy.client();
      return openRemoteEngine({ target: await hostTarget(host, global) });
    },
    serve: async (req, global) => {
      if (remoteHost(global, process.env) !== undefined) {
        throw notImplemented(
          "berth serve runs the engine on this host's store: it cannot run against a remote engine (-H/BERTH_HOST)",
        );
      }
      const { runServe } = await lazy.serve();
      return runServe(req, global, {
        roots: rootsOf(global),
        version: packageVersion(),
        openEngine: () => openLocal(global),
        stderr: process.stderr,
        // The web view's files, built by scripts/bundle.sh into dist/ui/ (beside dist/src/).
        uiDir: fileURLToPath(new URL("../../ui/", import.meta.url)),
      });
    },
  });
}
