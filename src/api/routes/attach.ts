/**
 * POST /containers/{id}/attach (hijacked), POST /containers/{id}/resize, and the start that
 * serves attaches made before it: the docker CLI attaches to a created container, then starts
 * it, and must see its output from the first byte.
 * Like every route it decodes the request and encodes the answer; what happens is the engine's,
 * and it never reaches the store, the runtime or the files itself.
 */
import { conflict, isBerthError } from "../../base/errors.js";
import type { AttachHandlers, AttachSession } from "../../engine/types.js";
import { queryBool, queryInt, queryString } from "../decode.js";
import { DetachWatcher, detachKeysOrDefault, hijack, safely } from "../hijack.js";
import type { RequestContext, Router } from "../router.js";

/**
 * Starts a container, feeding the attaches waiting for it from its first byte. Without waiting
 * attaches it is a plain start.
 */
export async function startServingAttaches(ctx: RequestContext, id: string): Promise<void> {
  const pending = ctx.sessions.takePending(id);
  if (pending.length === 0) {
    await ctx.engine.containerStart(id);
    return;
  }
  const fan: AttachHandlers = {
    onStdout: (d) => {
      for (const p of pending) p.handlers.onStdout(d);
    },
    onStderr: (d) => {
      for (const p of pending) p.handlers.onStderr(d);
    },
    onEnd: () => {
      for (const p of pending) p.handlers.onEnd();
    },
  };
  let session: AttachSession | undefined;
  try {
    session = await ctx.engine.containerStart(id, { attach: fan });
  } catch (err) {
    for (const p of pending) p.failed(err);
    throw err;
  }
  if (session) {
    for (const p of pending) p.started(session);
    return;
  }
  // Someone else started it first: attach to the running container instead.
  for (const p of pending) {
    ctx.engine.containerAttach(id, p.handlers).then(
      (s) => p.started(s),
      (err: unknown) => p.failed(err),
    );
  }
}

async function attach(ctx: RequestContext): Promise<void> {
  const q = ctx.query;
  const wantLogs = queryBool(q, "logs");
  const stream = queryBool(q, "stream");
  const wantStdin = queryBool(q, "stdin");
  const wantOut = queryBool(q, "stdout");
  const wantErr = queryBool(q, "stderr");
  const keys = detachKeysOrDefault(queryString(q, "detachKeys"), "detach");
  const info = await ctx.engine.containerInspect(ctx.params.id ?? "");
  const id = info.Id;
  const tty = !!info.Config.Tty;

  let finish: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let session: AttachSession | undefined;
  const cleanups: Array<() => void> = [];
  // Handlers exist before the hijack so that a waiting attach is registered before the client
  // hears 101 (and sends its start).
  let push: (stream: 1 | 2, d: Uint8Array) => void = () => undefined;
  const handlers: AttachHandlers = {
    onStdout: (d) => {
      if (wantOut) push(1, d);
    },
    onStderr: (d) => {
      if (wantErr) push(2, d);
    },
    onEnd: () => finish(),
  };
  let connectInput: (s: AttachSession) => void = () => undefined;
  const connected = (s: AttachSession) => {
    session = s;
    cleanups.push(ctx.sessions.addAttached(id, s));
    connectInput(s);
  };
  if (stream && !info.State.Running) {
    cleanups.push(
      ctx.sessions.addPending(id, {
        handlers,
        started: connected,
        failed: () => finish(),
      }),
    );
  }
  const h = hijack(ctx, { multiplexed: !tty });
  push = (s, d) => h.out.push(s, d);
  connectInput = (s) => {
    if (!wantStdin || !info.Config.OpenStdin) return;
    // As Docker: detach keys are read only from a terminal's input; other stdin is data.
    const watcher = new DetachWatcher(tty ? keys : []);
    h.onInput(
      async (chunk) => {
        const { pass, detach } = watcher.feed(chunk);
        if (pass.length > 0) await s.writeStdin(pass);
        if (detach) finish();
      },
      () => safely(() => s.endStdin()),
    );
  };
  try {
    if (wantLogs) {
      for await (const e of ctx.engine.containerLogs(id, {
        stdout: wantOut,
        stderr: wantErr,
        signal: ctx.signal,
      })) {
        await h.out.write(e.stream === "stderr" ? 2 : 1, e.data);
      }
    }
    if (!stream) return;
    if (info.State.Running) {
      try {
        connected(await ctx.engine.containerAttach(id, handlers));
      } catch (err) {
        // It stopped between the inspect and the attach: the stream simply ends, as Docker's.
        if (!isBerthError(err, "Conflict")) throw err;
        return;
      }
    } else if (session) {
      connectInput(session);
    }
    await Promise.race([ended, h.closed]);
  } finally {
    for (const c of cleanups) c();
    // The output ended, the client went away or typed the detach keys: the container runs on.
    if (session) safely(() => session?.detach());
    h.close();
  }
}

async function resize(ctx: RequestContext): Promise<void> {
  const height = queryInt(ctx.query, "h") ?? 0;
  const width = queryInt(ctx.query, "w") ?? 0;
  const info = await ctx.engine.containerInspect(ctx.params.id ?? "");
  if (!info.State.Running) throw conflict(`Container ${info.Id} is not running`);
  const live = ctx.sessions.anyAttached(info.Id);
  if (live) {
    await live.resize(height, width);
  } else {
    // No client of ours is attached: attach for the moment of the resize.
    const s = await ctx.engine.containerAttach(info.Id, {
      onStdout: () => undefined,
      onStderr: () => undefined,
      onEnd: () => undefined,
    });
    try {
      await s.resize(height, width);
    } finally {
      safely(() => s.detach());
    }
  }
  ctx.res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 0 }).end();
}

export function attachRoutes(r: Router): Router {
  return r.post("/containers/{id}/attach", attach, { hijack: true }).post("/containers/{id}/resize", resize);
}
