/**
 * Exec instances: POST /containers/{id}/exec creates one (kept in memory, as dockerd keeps
 * them), POST /exec/{id}/start runs it detached or hijacked, POST /exec/{id}/resize sizes its
 * terminal, GET /exec/{id}/json reports it (the docker CLI reads the exit code there).
 * Like every route it decodes the request and encodes the answer; the process is the engine's,
 * and it never reaches the runtime itself. Exec records live only as long as the server.
 */
import { randomBytes } from "node:crypto";
import { BerthError, conflict, errorMessage, invalidArgument, notFound } from "../../base/errors.js";
import { bestEffort } from "../../base/log.js";
import type { ExecConfig } from "../../engine/types.js";
import { Fields, queryInt } from "../decode.js";
import { DetachWatcher, detachKeysOrDefault, hijack, safely } from "../hijack.js";
import { parseJson, readJson, sendJson } from "../http.js";
import type { RequestContext, Router } from "../router.js";
import type { ExecRecord } from "../sessions.js";

function consoleSize(f: Fields): [number, number] | undefined {
  const v = f.raw("ConsoleSize");
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2)
    throw invalidArgument("invalid JSON: ConsoleSize must be two integers");
  const [h, w] = v;
  if (!Number.isInteger(h) || !Number.isInteger(w) || typeof h !== "number" || typeof w !== "number") {
    throw invalidArgument("invalid JSON: ConsoleSize must be two integers");
  }
  return h > 0 && w > 0 ? [h, w] : undefined;
}

function lookup(ctx: RequestContext): ExecRecord {
  const id = ctx.params.id ?? "";
  const rec = ctx.sessions.execs.get(id);
  if (!rec) throw notFound(`No such exec instance: ${id}`);
  return rec;
}

async function create(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx.req, ctx.limits);
  if (body === undefined) throw invalidArgument("invalid JSON: the request body is empty");
  const f = new Fields(body, "");
  const cmd = f.strSlice("Cmd");
  if (!cmd || cmd.length === 0 || cmd[0] === "") throw invalidArgument("No exec command specified");
  const detachKeys = f.string("DetachKeys") ?? "";
  detachKeysOrDefault(detachKeys, "escape");
  const size = consoleSize(f);
  const env = f.strings("Env");
  const workdir = f.string("WorkingDir");
  const user = f.string("User");
  const config: ExecConfig = {
    Cmd: cmd,
    Tty: f.bool("Tty") ?? false,
    AttachStdin: f.bool("AttachStdin") ?? false,
    AttachStdout: f.bool("AttachStdout") ?? false,
    AttachStderr: f.bool("AttachStderr") ?? false,
    Privileged: f.bool("Privileged") ?? false,
    ...(env ? { Env: env } : {}),
    ...(workdir ? { WorkingDir: workdir } : {}),
    ...(user ? { User: user } : {}),
    ...(size ? { ConsoleSize: size } : {}),
  };
  const name = ctx.params.id ?? "";
  const info = await ctx.engine.containerInspect(name);
  // Docker's words (moby's errExecPaused, errNotRunning), naming the container as it was given.
  if (info.State.Paused) throw conflict(`Container ${name} is paused, unpause the container before exec`);
  if (info.State.Restarting)
    throw conflict(`Container ${name} is restarting, wait until the container is running`);
  if (!info.State.Running) throw conflict(`container ${name} is not running`);
  const id = randomBytes(32).toString("hex");
  ctx.sessions.addExec({
    ID: id,
    ContainerID: info.Id,
    config,
    detachKeys,
    running: false,
    started: false,
    exitCode: null,
    pid: 0,
  });
  sendJson(ctx.res, 201, { Id: id });
}

/*
 * Long on purpose: exec start's three answers (detached, attached over the hijacked connection,
 * and a start failure before or after the upgrade) share the record's state transitions, and the
 * order of those steps is the protocol Docker's clients rely on.
 */
async function start(ctx: RequestContext): Promise<void> {
  const rec = lookup(ctx);
  const body = ctx.upgrade ? parseJson(ctx.upgrade.body) : await readJson(ctx.req, ctx.limits);
  const f = body === undefined ? undefined : new Fields(body, "");
  const detach = f?.bool("Detach") ?? false;
  /**
   * Not Docker's: berth's client asks that a failure to set the process up (no such user, …) be
   * the answer to this request, before the upgrade, as the local engine reports it. Docker's
   * clients get Docker's order: the upgrade first, then such a failure as text in the stream.
   * (Some read the stream only after the upgrade answer, and drop output that comes with it.)
   */
  const answerErrors = f?.bool("AnswerStartErrors") ?? false;
  const size = f ? consoleSize(f) : undefined;
  if (rec.started) throw conflict(`Exec ${rec.ID} has already been started`);
  rec.started = true;
  const config: ExecConfig = { ...rec.config, ...(size ? { ConsoleSize: size } : {}) };
  if (detach) {
    try {
      await ctx.engine.containerExec(rec.ContainerID, { ...config, Detach: true });
    } catch (err) {
      rec.endedAt = Date.now();
      if (err instanceof BerthError && "exitCode" in err && typeof err.exitCode === "number") {
        rec.exitCode = err.exitCode;
      }
      throw err;
    }
    rec.running = true;
    ctx.res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 0 }).end();
    return;
  }
  const tty = !!config.Tty;
  let finish: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // Output that comes before the hijack (AnswerStartErrors) waits for it.
  let early: Array<[1 | 2, Uint8Array]> | undefined = [];
  let h: ReturnType<typeof hijack> | undefined = answerErrors
    ? undefined
    : hijack(ctx, { multiplexed: !tty });
  const push = (stream: 1 | 2, d: Uint8Array) => {
    if (h) h.out.push(stream, d);
    else early?.push([stream, d]);
  };
  let session: Awaited<ReturnType<typeof ctx.engine.containerExec>>;
  try {
    session = await ctx.engine.containerExec(
      rec.ContainerID,
      { ...config, Detach: false },
      {
        attach: {
          onStdout: (d) => {
            if (config.AttachStdout) push(1, d);
          },
          onStderr: (d) => {
            if (config.AttachStderr) push(2, d);
          },
          onEnd: () => finish(),
        },
        signal: ctx.signal,
      },
    );
  } catch (err) {
    rec.endedAt = Date.now();
    const code =
      err instanceof BerthError && "exitCode" in err && typeof err.exitCode === "number"
        ? err.exitCode
        : undefined;
    if (h === undefined && code === undefined) throw err;
    // As Docker: the failure is written into the stream, and exec inspect then reports the exit
    // code (126 or 127 for a command that cannot run).
    rec.exitCode = code ?? 126;
    const failed = h ?? hijack(ctx, { multiplexed: !tty });
    await failed.out.write(1, Buffer.from(`${errorMessage(err)}\r\n`));
    failed.close();
    return;
  }
  const hj = h ?? hijack(ctx, { multiplexed: !tty });
  h = hj;
  for (const [stream, d] of early ?? []) hj.out.push(stream, d);
  early = undefined;
  try {
    if (!session) return;
    const s = session;
    rec.session = s;
    rec.running = true;
    if (rec.pendingSize)
      await bestEffort("resizing the exec terminal", s.resize(rec.pendingSize[0], rec.pendingSize[1]));
    if (config.AttachStdin) {
      // As Docker: detach keys are read only from a terminal's input; other stdin is data.
      const watcher = new DetachWatcher(tty ? detachKeysOrDefault(rec.detachKeys, "escape") : []);
      hj.onInput(
        async (chunk) => {
          const { pass, detach: typed } = watcher.feed(chunk);
          if (pass.length > 0) await s.writeStdin(pass);
          if (typed) {
            safely(() => s.detach());
            hj.close();
          }
        },
        () => safely(() => s.endStdin()),
      );
    }
    await Promise.race([ended, hj.closed]);
    if (hj.out.destroyed) {
      // The client went away: the process runs on, and its end is still recorded.
      safely(() => s.detach());
      void bestEffort(
        `waiting for the end of exec ${rec.ID}`,
        s.wait().then((r) => {
          rec.exitCode = r.ExitCode;
          rec.running = false;
          rec.endedAt = Date.now();
        }),
      );
      return;
    }
    const result = await s.wait();
    rec.exitCode = result.ExitCode;
    rec.pid = result.Pid;
    rec.running = false;
    rec.endedAt = Date.now();
  } finally {
    rec.session = undefined;
    hj.close();
  }
}

async function resize(ctx: RequestContext): Promise<void> {
  const rec = lookup(ctx);
  const height = queryInt(ctx.query, "h") ?? 0;
  const width = queryInt(ctx.query, "w") ?? 0;
  if (rec.session) await rec.session.resize(height, width);
  else if (!rec.started || rec.running) rec.pendingSize = [height, width];
  else throw conflict(`Exec ${rec.ID} is not running`);
  ctx.res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 0 }).end();
}

async function inspect(ctx: RequestContext): Promise<void> {
  const rec = lookup(ctx);
  const [entrypoint = "", ...args] = rec.config.Cmd;
  sendJson(ctx.res, 200, {
    CanRemove: false,
    ContainerID: rec.ContainerID,
    DetachKeys: rec.detachKeys,
    ExitCode: rec.exitCode,
    ID: rec.ID,
    OpenStderr: !!rec.config.AttachStderr,
    OpenStdin: !!rec.config.AttachStdin,
    OpenStdout: !!rec.config.AttachStdout,
    ProcessConfig: {
      arguments: args,
      entrypoint,
      privileged: !!rec.config.Privileged,
      tty: !!rec.config.Tty,
      user: rec.config.User ?? "",
    },
    Running: rec.running,
    Pid: rec.pid,
  });
}

export function execRoutes(r: Router): Router {
  return r
    .post("/containers/{id}/exec", create)
    .post("/exec/{id}/start", start, { hijack: true })
    .post("/exec/{id}/resize", resize)
    .get("/exec/{id}/json", inspect);
}
