/**
 * Container endpoints (/containers/…): lifecycle, inspection and logs, each read from Docker's
 * Engine API reference. Create's body decoding is in ./container-create.ts; attach and exec,
 * which hijack the connection, are in ./attach.ts and ./exec.ts.
 * Like every route it decodes the request and encodes the answer; what happens is the engine's,
 * and it never reaches the store, the runtime or the files itself.
 */

import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sleep } from "../../base/async.js";
import { invalidArgument, isBerthError } from "../../base/errors.js";
import { bestEffort } from "../../base/log.js";
import type { ContainerInspect, ContainerWaitResponse } from "../../engine/types.js";
import { filterOptions, queryBool, queryFilters, queryInt, queryOptBool, queryString } from "../decode.js";
import { NotModified, readJson, requestBody, sendJson, sendNoContent } from "../http.js";
import type { RequestContext, Router } from "../router.js";
import { JsonLinesWriter, OutputWriter } from "../streams.js";
import { startServingAttaches } from "./attach.js";
import { decodeContainerCreate } from "./container-create.js";
import { decodeContainerPortsUpdate, decodeContainerUpdate } from "./container-update.js";

/** Docker's `t` (seconds before the kill); absent is the container's own StopTimeout. */
function stopTimeout(ctx: RequestContext): number | undefined {
  return queryInt(ctx.query, "t") ?? queryInt(ctx.query, "timeout");
}

/** since/until: Unix seconds, fractional allowed ("1700000000.123456789"), or RFC 3339. */
export function parseTimestamp(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === "" || raw === "0") return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(raw)}`);
  return t / 1000;
}

async function list(ctx: RequestContext): Promise<void> {
  const limit = queryInt(ctx.query, "limit");
  const filters = queryFilters(ctx.query);
  const out = await ctx.engine.containerList({
    all: queryBool(ctx.query, "all"),
    size: queryBool(ctx.query, "size"),
    ...(limit !== undefined && limit > 0 ? { limit } : {}),
    ...(filters ? { filters } : {}),
  });
  sendJson(ctx.res, 200, out);
}

async function inspect(ctx: RequestContext): Promise<void> {
  const out = await ctx.engine.containerInspect(ctx.params.id ?? "", { size: queryBool(ctx.query, "size") });
  sendJson(ctx.res, 200, out);
}

async function isRunning(ctx: RequestContext, id: string): Promise<ContainerInspect> {
  return ctx.engine.containerInspect(id);
}

async function start(ctx: RequestContext): Promise<void> {
  const id = ctx.params.id ?? "";
  if (queryString(ctx.query, "checkpoint")) throw invalidArgument("checkpoints are not supported");
  // Docker answers 304 when the container already runs.
  const before = await isRunning(ctx, id);
  if (before.State.Running && !before.State.Restarting) throw new NotModified();
  try {
    await startServingAttaches(ctx, before.Id);
  } catch (err) {
    // As Docker: a container to be removed when it ends is removed when it cannot start (the
    // docker CLI waits for that removal after a failed `run --rm`).
    if (before.HostConfig.AutoRemove) {
      await bestEffort(
        `removing ${before.Id} after its start failed`,
        ctx.engine.containerRemove(before.Id, { force: true, volumes: true }),
      );
    }
    throw err;
  }
  sendNoContent(ctx.res);
}

async function stop(ctx: RequestContext): Promise<void> {
  const id = ctx.params.id ?? "";
  const before = await isRunning(ctx, id);
  if (!before.State.Running) throw new NotModified();
  const timeout = stopTimeout(ctx);
  const signal = queryString(ctx.query, "signal");
  await ctx.engine.containerStop(id, {
    ...(timeout !== undefined ? { timeout } : {}),
    ...(signal ? { signal } : {}),
  });
  sendNoContent(ctx.res);
}

async function restart(ctx: RequestContext): Promise<void> {
  const timeout = stopTimeout(ctx);
  const signal = queryString(ctx.query, "signal");
  await ctx.engine.containerRestart(ctx.params.id ?? "", {
    ...(timeout !== undefined ? { timeout } : {}),
    ...(signal ? { signal } : {}),
  });
  sendNoContent(ctx.res);
}

async function kill(ctx: RequestContext): Promise<void> {
  const signal = queryString(ctx.query, "signal");
  await ctx.engine.containerKill(ctx.params.id ?? "", signal || undefined);
  sendNoContent(ctx.res);
}

async function pause(ctx: RequestContext): Promise<void> {
  await ctx.engine.containerPause(ctx.params.id ?? "");
  sendNoContent(ctx.res);
}

async function unpause(ctx: RequestContext): Promise<void> {
  await ctx.engine.containerUnpause(ctx.params.id ?? "");
  sendNoContent(ctx.res);
}

async function remove(ctx: RequestContext): Promise<void> {
  if (queryBool(ctx.query, "link")) throw invalidArgument("legacy links are not supported");
  await ctx.engine.containerRemove(ctx.params.id ?? "", {
    force: queryBool(ctx.query, "force"),
    volumes: queryBool(ctx.query, "v"),
  });
  sendNoContent(ctx.res);
}

async function rename(ctx: RequestContext): Promise<void> {
  const name = queryString(ctx.query, "name");
  if (!name) throw invalidArgument("name is required");
  await ctx.engine.containerRename(ctx.params.id ?? "", name);
  sendNoContent(ctx.res);
}

/** POST /containers/{id}/update: Docker's UpdateConfig in, `{"Warnings": […]}` out. */
async function update(ctx: RequestContext): Promise<void> {
  const req = decodeContainerUpdate(await readJson(ctx.req, ctx.limits));
  sendJson(ctx.res, 200, await ctx.engine.containerUpdate(ctx.params.id ?? "", req));
}

/** POST /containers/{id}/ports (berth's own): published ports added and removed in place; 204. */
async function updatePorts(ctx: RequestContext): Promise<void> {
  const req = decodeContainerPortsUpdate(await readJson(ctx.req, ctx.limits));
  await ctx.engine.containerUpdatePorts(ctx.params.id ?? "", req);
  sendNoContent(ctx.res);
}

/** `ps_args` as ps takes them: split on white space. */
async function top(ctx: RequestContext): Promise<void> {
  const raw = queryString(ctx.query, "ps_args") ?? "";
  const args = raw.split(/\s+/).filter((a) => a !== "");
  sendJson(
    ctx.res,
    200,
    await ctx.engine.containerTop(ctx.params.id ?? "", args.length > 0 ? args : undefined),
  );
}

async function changes(ctx: RequestContext): Promise<void> {
  const out = await ctx.engine.containerChanges(ctx.params.id ?? "");
  sendJson(ctx.res, 200, out.length > 0 ? out : null);
}

async function prune(ctx: RequestContext): Promise<void> {
  const out = await ctx.engine.containerPrune(filterOptions(ctx.query));
  sendJson(ctx.res, 200, {
    ...out,
    ContainersDeleted: out.ContainersDeleted.length > 0 ? out.ContainersDeleted : null,
  });
}

const POLL_MS = 50;

/**
 * POST /containers/{id}/wait. The status line goes out at once (the docker CLI waits for it
 * before starting the container), the body when the condition is met:
 * `not-running` (default) now or at the exit; `next-exit` the exit after the next start;
 * `removed` once the container is gone.
 */
async function wait(ctx: RequestContext): Promise<void> {
  const id = ctx.params.id ?? "";
  const condition = queryString(ctx.query, "condition") || "not-running";
  if (!["not-running", "next-exit", "removed"].includes(condition)) {
    throw invalidArgument(`invalid condition: "${condition}"`);
  }
  // Events from here on tell the exit code of a run that ended, and was removed, between polls.
  const since = Date.now() / 1000;
  const first = await ctx.engine.containerInspect(id);
  const full = first.Id;
  ctx.res.writeHead(200, { "Content-Type": "application/json" });
  ctx.res.flushHeaders();
  const { signal } = ctx;
  let answer: ContainerWaitResponse;
  try {
    // The next exit (and, for `removed`, a container not yet started): wait until it has started
    // again (a new StartedAt, or running) or is gone.
    if (condition === "next-exit" || (condition === "removed" && !first.State.Running)) {
      for (;;) {
        if (signal.aborted) return void ctx.res.destroy();
        const cur = await ctx.engine.containerInspect(full).catch((err: unknown) => {
          if (isBerthError(err, "NotFound")) return undefined;
          throw err;
        });
        if (!cur || cur.State.Running || cur.State.StartedAt !== first.State.StartedAt) break;
        await sleep(POLL_MS, signal, { resolveOnAbort: true });
      }
    }
    answer = await ctx.engine.containerWait(full, { signal }).catch(async (err: unknown) => {
      if (condition !== "removed" || !isBerthError(err, "NotFound")) throw err;
      // Gone before we could wait (an auto-removed container that ran between two polls): its
      // exit code is in its last die event.
      const code = await lastExitCode(ctx, full, since);
      if (code === undefined) throw err;
      return { StatusCode: code };
    });
    if (condition === "removed") {
      for (;;) {
        if (signal.aborted) return void ctx.res.destroy();
        try {
          await ctx.engine.containerInspect(full);
        } catch (err) {
          if (isBerthError(err, "NotFound")) break;
          throw err;
        }
        await sleep(POLL_MS, signal, { resolveOnAbort: true });
      }
    }
  } catch (err) {
    if (signal.aborted) {
      ctx.res.destroy();
      return;
    }
    answer = { StatusCode: -1, Error: { Message: err instanceof Error ? err.message : String(err) } };
  }
  ctx.res.end(JSON.stringify({ StatusCode: answer.StatusCode, Error: answer.Error ?? null }));
}

/** The exit code in the newest die event of a container since `since` (Unix seconds). */
async function lastExitCode(ctx: RequestContext, id: string, since: number): Promise<number | undefined> {
  let code: number | undefined;
  const events = ctx.engine.events({
    since,
    until: Date.now() / 1000,
    filters: { container: [id], event: ["die"] },
    signal: ctx.signal,
  });
  for await (const e of events) {
    const text = e.Actor.Attributes?.exitCode;
    if (text !== undefined && /^-?\d+$/.test(text)) code = Number(text);
  }
  return code;
}

/**
 * A log record's time as Docker prints it: RFC 3339 in UTC with nine fraction digits
 * (`2024-01-02T03:04:05.000000000Z`); conmon writes a `+00:00` offset (or the host's).
 */
export function dockerLogTime(time: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return time;
  const frac = (m[2] ?? "").padEnd(9, "0").slice(0, 9);
  if (m[3] === "Z" || m[3] === "+00:00" || m[3] === "-00:00") return `${m[1]}.${frac}Z`;
  const utc = new Date(`${m[1]}${m[3]}`).toISOString().slice(0, 19);
  return `${utc}.${frac}Z`;
}

/**
 * GET /containers/{id}/logs: multiplexed frames without a TTY, raw bytes with one; `timestamps`
 * puts each record's RFC 3339 time before it.
 */
async function logs(ctx: RequestContext): Promise<void> {
  const id = ctx.params.id ?? "";
  const q = ctx.query;
  const stdout = queryBool(q, "stdout");
  const stderr = queryBool(q, "stderr");
  if (!stdout && !stderr) throw invalidArgument("Bad parameters: you must choose at least one stream");
  const details = queryOptBool(q, "details");
  if (details)
    throw invalidArgument("details is not supported: berth's log driver records no log attributes");
  const tailRaw = queryString(q, "tail");
  let tail: number | undefined;
  if (tailRaw !== undefined && tailRaw !== "" && tailRaw !== "all") {
    if (!/^-?\d+$/.test(tailRaw)) throw invalidArgument(`invalid value for tail: ${JSON.stringify(tailRaw)}`);
    tail = Number(tailRaw);
  }
  const since = parseTimestamp(queryString(q, "since"), "since");
  const until = parseTimestamp(queryString(q, "until"), "until");
  const timestamps = queryBool(q, "timestamps");
  const info = await ctx.engine.containerInspect(id);
  // Asked before the headers: a log that cannot be read is an error response, not a stream.
  const entries = ctx.engine.containerLogs(info.Id, {
    follow: queryBool(q, "follow"),
    stdout,
    stderr,
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(tail !== undefined && tail >= 0 ? { tail } : {}),
    signal: ctx.signal,
  });
  const out = new OutputWriter(ctx.res, { multiplexed: !info.Config.Tty });
  ctx.res.writeHead(200, { "Content-Type": out.contentType });
  ctx.res.flushHeaders();
  try {
    for await (const e of entries) {
      const data =
        timestamps && e.time ? Buffer.concat([Buffer.from(`${dockerLogTime(e.time)} `), e.data]) : e.data;
      await out.write(e.stream === "stderr" ? 2 : 1, data);
    }
  } catch (err) {
    if (!ctx.signal.aborted) throw err;
  }
  ctx.res.end();
}

async function create(ctx: RequestContext): Promise<void> {
  const name = queryString(ctx.query, "name");
  const platform = queryString(ctx.query, "platform");
  const req = decodeContainerCreate(await readJson(ctx.req, ctx.limits));
  const out = await ctx.engine.containerCreate(req, {
    ...(name ? { name } : {}),
    ...(platform ? { platform } : {}),
  });
  sendJson(ctx.res, 201, out);
}

/**
 * GET /containers/{id}/stats: one reading (`stream=false`; with `one-shot` too, as berth's
 * reading always covers an interval), or the engine's reading a second while it runs.
 */
async function stats(ctx: RequestContext): Promise<void> {
  const info = await ctx.engine.containerInspect(ctx.params.id ?? "");
  const stream = queryOptBool(ctx.query, "stream") ?? true;
  const reading = async () => ({
    ...(await ctx.engine.containerStats(info.Id)),
    name: info.Name,
    id: info.Id,
  });
  if (!stream) {
    sendJson(ctx.res, 200, await reading());
    return;
  }
  ctx.res.writeHead(200, { "Content-Type": "application/json" });
  ctx.res.flushHeaders();
  const out = new JsonLinesWriter(ctx.res);
  try {
    for await (const r of ctx.engine.containerStatsStream(info.Id, { signal: ctx.signal })) {
      await out.write({ ...r, name: info.Name, id: info.Id });
      if (ctx.res.destroyed) break;
    }
  } catch (err) {
    if (!ctx.signal.aborted) throw err;
  }
  ctx.res.end();
}

function pathParam(ctx: RequestContext): string {
  const path = queryString(ctx.query, "path");
  if (!path) throw invalidArgument("path is required");
  return path;
}

function statHeader(stat: unknown): string {
  return Buffer.from(JSON.stringify(stat)).toString("base64");
}

async function archiveHead(ctx: RequestContext): Promise<void> {
  const stat = await ctx.engine.containerStatPath(ctx.params.id ?? "", pathParam(ctx));
  ctx.res.writeHead(200, { "X-Docker-Container-Path-Stat": statHeader(stat), "Content-Length": 0 }).end();
}

async function archiveGet(ctx: RequestContext): Promise<void> {
  const a = await ctx.engine.containerArchive(ctx.params.id ?? "", pathParam(ctx), { signal: ctx.signal });
  ctx.res.writeHead(200, {
    "Content-Type": "application/x-tar",
    "X-Docker-Container-Path-Stat": statHeader(a.stat),
  });
  await pipeline(Readable.from(a.content), ctx.res).catch((err: unknown) => {
    if (!ctx.signal.aborted) throw err;
  });
}

async function archivePut(ctx: RequestContext): Promise<void> {
  await ctx.engine.containerExtractArchive(ctx.params.id ?? "", pathParam(ctx), requestBody(ctx.req), {
    noOverwriteDirNonDir: queryBool(ctx.query, "noOverwriteDirNonDir"),
    copyUIDGID: queryBool(ctx.query, "copyUIDGID"),
    signal: ctx.signal,
  });
  ctx.res.writeHead(200, { "Content-Length": 0 }).end();
}

async function exportContainer(ctx: RequestContext): Promise<void> {
  const tar = await ctx.engine.containerExport(ctx.params.id ?? "", { signal: ctx.signal });
  ctx.res.writeHead(200, { "Content-Type": "application/x-tar" });
  await pipeline(Readable.from(tar), ctx.res).catch((err: unknown) => {
    if (!ctx.signal.aborted) throw err;
  });
}

/**
 * POST /commit. The body (a container Config to apply) is accepted when it sets nothing, as
 * the docker CLI sends it; `changes` carries Dockerfile instructions instead.
 */
async function commit(ctx: RequestContext): Promise<void> {
  const q = ctx.query;
  const container = queryString(q, "container");
  if (!container) throw invalidArgument("container is required");
  const body = await readJson(ctx.req, ctx.limits);
  if (body !== undefined && body !== null) {
    const cfg = decodeContainerCreate(body);
    const set = Object.entries(cfg).filter(
      ([, v]) =>
        v !== undefined &&
        v !== null &&
        v !== "" &&
        v !== false &&
        !(Array.isArray(v) && v.length === 0) &&
        !(typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0),
    );
    if (set.length > 0) {
      throw invalidArgument(
        `a config in the commit body (${set.map(([k]) => k).join(", ")}) is not supported by berth; use changes`,
      );
    }
  }
  const repo = queryString(q, "repo");
  const tag = queryString(q, "tag");
  const comment = queryString(q, "comment");
  const author = queryString(q, "author");
  const changes = q
    .getAll("changes")
    .flatMap((c) => c.split("\n"))
    .filter((c) => c.trim() !== "");
  const reference = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
  if (!repo && tag) throw invalidArgument("tag without repo");
  const out = await ctx.engine.containerCommit(container, {
    ...(reference ? { reference } : {}),
    ...(comment ? { comment } : {}),
    ...(author ? { author } : {}),
    ...(changes.length > 0 ? { changes } : {}),
    pause: queryOptBool(q, "pause") ?? true,
    signal: ctx.signal,
  });
  sendJson(ctx.res, 201, out);
}

export function containerRoutes(r: Router): Router {
  return r
    .post("/containers/create", create)
    .get("/containers/{id}/stats", stats)
    .head("/containers/{id}/archive", archiveHead)
    .get("/containers/{id}/archive", archiveGet)
    .put("/containers/{id}/archive", archivePut)
    .get("/containers/{id}/export", exportContainer)
    .post("/commit", commit)
    .get("/containers/json", list)
    .post("/containers/prune", prune)
    .get("/containers/{id}/json", inspect)
    .post("/containers/{id}/start", start)
    .post("/containers/{id}/stop", stop)
    .post("/containers/{id}/restart", restart)
    .post("/containers/{id}/kill", kill)
    .post("/containers/{id}/pause", pause)
    .post("/containers/{id}/unpause", unpause)
    .post("/containers/{id}/wait", wait)
    .post("/containers/{id}/rename", rename)
    .post("/containers/{id}/update", update)
    .post("/containers/{id}/ports", updatePorts)
    .delete("/containers/{id}", remove)
    .get("/containers/{id}/top", top)
    .get("/containers/{id}/changes", changes)
    .get("/containers/{id}/logs", logs);
}
