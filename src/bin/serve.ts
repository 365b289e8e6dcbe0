/**
 * `berth serve` wired: the local engine behind the API server, on the sockets of `-H`, until
 * SIGTERM or SIGINT. Containers are not this process's children (conmon holds them): they keep
 * running when it stops and are there when it starts again.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createLogger } from "../api/logger.js";
import { createApiServer, type Endpoint } from "../api/server.js";
import { errorMessage } from "../base/errors.js";
import type { ServeRequest } from "../cli/commands/serve.js";
import type { GlobalOptions } from "../cli/main.js";
import type { Roots } from "../config/roots.js";
import type { Engine } from "../engine/engine.js";
import { readTextIfExists } from "../sys/fs.js";
import { loadUiPage, type UiPage } from "../ui/assets.js";

export interface ServeDeps {
  readonly roots: Roots;
  readonly version: string;
  readonly openEngine: () => Promise<Engine>;
  readonly stderr: NodeJS.WritableStream;
  /** Where the web view's files are (`--ui`). */
  readonly uiDir: string;
}

/** The gid of a group in /etc/group, or undefined when there is no such group. */
async function groupId(name: string): Promise<number | undefined> {
  if (name === "") return undefined;
  if (/^\d+$/.test(name)) return Number(name);
  const text = (await readTextIfExists("/etc/group")) ?? "";
  for (const line of text.split("\n")) {
    const [g, , gid] = line.split(":");
    if (g === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

export async function runServe(req: ServeRequest, _global: GlobalOptions, deps: ServeDeps): Promise<number> {
  const log = createLogger({ level: req.logLevel, write: (line) => deps.stderr.write(line) });
  const gid = await groupId(req.group);
  const tls = req.tls
    ? {
        ca: await readFile(req.tls.ca),
        cert: await readFile(req.tls.cert),
        key: await readFile(req.tls.key),
      }
    : undefined;
  const addresses =
    req.addresses.length > 0
      ? req.addresses
      : [{ kind: "unix" as const, path: join(deps.roots.runroot, "berth.sock") }];
  const endpoints: Endpoint[] = addresses.map((a) =>
    a.kind === "unix"
      ? { kind: "unix", path: a.path, mode: 0o660, ...(gid !== undefined ? { gid } : {}) }
      : { kind: "tcp", host: a.host, port: a.port, ...(tls ? { tls } : {}) },
  );
  // The web view: the API and its page on one loopback listener, the page's own origin.
  if (req.ui) endpoints.push({ kind: "tcp", host: req.ui.host, port: req.ui.port, browser: true });
  let page: UiPage | undefined;
  try {
    page = req.ui ? await loadUiPage(deps.uiDir) : undefined;
  } catch (err) {
    deps.stderr.write(`berth serve: ${errorMessage(err)}\n`);
    return 1;
  }
  const engine = await deps.openEngine();
  const server = createApiServer({
    ...(page ? { page } : {}),
    engine,
    logger: log,
    facts: {
      version: deps.version,
      root: deps.roots.root,
      runroot: deps.roots.runroot,
      startedAt: Date.now(),
    },
  });
  let stopping: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => {
    stopping = resolve;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    log.info(`received ${sig}, shutting down`);
    stopping?.();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // A failure no request answered for is a bug: logged where the tests look, never a crash.
  const onStray = (err: unknown) => log.error(`unhandled failure (a bug): ${errorMessage(err)}`);
  process.on("unhandledRejection", onStray);
  process.on("uncaughtException", onStray);
  try {
    for (const ep of endpoints) {
      if (ep.kind === "unix") await mkdir(dirname(ep.path), { recursive: true });
      const where = await server.listen(ep);
      if (ep.kind === "tcp" && ep.browser) {
        log.info(`web view on ${where.replace(/^tcp:/, "http:")}/ (the API too, for that page only)`);
      } else log.info(`API listen on ${where}`);
    }
  } catch (err) {
    await server.close();
    await engine.close();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    deps.stderr.write(`berth serve: ${errorMessage(err)}\n`);
    return 1;
  }
  // As dockerd after a reboot or a crash: repair, then the containers whose policy asks to run.
  try {
    const report = await engine.containersStartup();
    for (const id of report.started) log.info("started by its restart policy", { container: id });
    for (const f of report.failed) {
      log.error(`could not start by its restart policy: ${f.message}`, { container: f.id });
    }
  } catch (err) {
    log.error(`recovery failed: ${errorMessage(err)}`);
  }
  // Healthchecks: this process supervises them while it runs (when no other process does).
  const supervising = new AbortController();
  const supervised = (
    engine.superviseHealth?.({ signal: supervising.signal, serving: true }) ?? Promise.resolve()
  ).catch((err: unknown) => log.error(`health supervisor failed: ${errorMessage(err)}`));
  log.info("berth serve is ready", { version: deps.version });
  await stopped;
  supervising.abort();
  await supervised;
  await server.close();
  await engine.close();
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  log.info("berth serve stopped");
  return 0;
}
