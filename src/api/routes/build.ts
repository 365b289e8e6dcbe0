/**
 * POST /build and POST /build/prune: the classic builder API the docker CLI uses without buildx.
 * The context arrives as a tar (plain or gzip) body; the options as query parameters, each
 * decoded or refused with a one-line error (the docker CLI sends the zero value of options the
 * user did not give: `cpushares=0`, `ulimits=null`, …, which mean "not set"). `rm` and `forcerm`
 * govern the removal of intermediate containers, and berth's build steps are not containers:
 * there is never one to keep or remove, whatever they say (docker-py sends `rm=False` by
 * default, so refusing it would refuse every docker-py build). Progress goes back
 * as the classic builder's JSON lines: `Step i/n : …`, the steps' output, ` ---> Using cache`,
 * `{"aux": {"ID": …}}`, `Successfully built …`, `Successfully tagged …`; with `q`, only the
 * image ID (and, when the build fails, the output it held back). berth's own client asks for the
 * engine's events instead (`berthevents=1`, engine/build-events.ts): step ids, durations,
 * cancellations and errors per step, as `berth build` shows them locally.
 */
import type { IncomingHttpHeaders } from "node:http";
import { errorMessage, invalidArgument, notImplemented } from "../../base/errors.js";
import { BUILD_EVENTS_PARAM, type BuildEventMessage, encodeBuildEvent } from "../../engine/build-events.js";
import type {
  AuthConfig,
  BuildCachePruneOptions,
  BuildEvent,
  ImageBuildOptions,
} from "../../engine/types.js";
import { isRecord, queryBool, queryFilters } from "../decode.js";
import { requestBody, sendJson } from "../http.js";
import type { RequestContext, Router } from "../router.js";
import { decodeAuthConfig, decodeBase64Json } from "./images.js";
import { sendJsonMessages } from "./progress.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A JSON-valued query parameter; absent, "" and `null` are undefined. */
function queryJson(q: URLSearchParams, name: string, what: string): unknown {
  const raw = q.get(name);
  if (raw === null || raw.trim() === "" || raw.trim() === "null") return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return v === null ? undefined : v;
  } catch (err) {
    throw invalidArgument(`error reading ${what}: ${errorMessage(err)}`);
  }
}

function stringMap(value: unknown, what: string, allowNull: boolean): Record<string, string | null> {
  if (!isRecord(value)) throw invalidArgument(`error reading ${what}: want a JSON object`);
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "string" || (allowNull && v === null)) out[k] = v;
    else throw invalidArgument(`error reading ${what}: the value of ${k} must be a string`);
  }
  return out;
}

/** A number parameter whose zero (the docker CLI's default) means unset; anything else refused. */
function refuseNonZero(q: URLSearchParams, name: string, what: string): void {
  const v = q.get(name);
  if (v === null || v === "" || v === "0") return;
  if (!/^-?\d+$/.test(v)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}`);
  throw notImplemented(`${what} (${name}) is not supported for builds`);
}

function refuseNonEmpty(q: URLSearchParams, name: string, what: string): void {
  if (q.getAll(name).some((v) => v !== ""))
    throw notImplemented(`${what} (${name}) is not supported for builds`);
}

/** The network modes a RUN step can have; `bridge` and `default` are the default. */
const NETWORK_MODES = new Set(["", "default", "bridge", "host", "none"]);

/**
 * Decodes the query of POST /build into the engine's options. `X-Registry-Config` (base64url
 * JSON, registry → AuthConfig) gives the credentials for base images the build pulls.
 */
export function decodeBuildQuery(q: URLSearchParams, headers: IncomingHttpHeaders = {}): ImageBuildOptions {
  const version = q.get("version") ?? "";
  if (version === "2") {
    throw notImplemented(
      "BuildKit (version=2) is not supported: berth serves the classic builder API (version=1)",
    );
  }
  if (version !== "" && version !== "1") throw invalidArgument(`invalid version "${version}"`);
  if (q.getAll("securityopt").some((v) => v !== "")) {
    throw invalidArgument("security options are not supported on linux");
  }
  if (queryBool(q, "squash")) throw invalidArgument("squash is only supported with experimental mode");
  const isolation = q.get("isolation") ?? "";
  if (isolation !== "" && isolation !== "default")
    throw invalidArgument(`unsupported isolation: "${isolation}"`);
  if ((q.get("remote") ?? "") !== "") {
    throw notImplemented("remote build contexts are not supported: send the context as the request body");
  }
  refuseNonEmpty(q, "session", "a BuildKit session");
  refuseNonEmpty(q, "buildid", "a build ID");
  if (queryJson(q, "outputs", "outputs") !== undefined) {
    const outputs = queryJson(q, "outputs", "outputs");
    if (!Array.isArray(outputs)) throw invalidArgument("invalid outputs specified: want a JSON list");
    if (outputs.length > 0)
      throw notImplemented("build outputs (outputs) are not supported: the result is an image");
  }
  refuseNonEmpty(q, "extrahosts", "extra hosts");
  refuseNonZero(q, "shmsize", "a /dev/shm size");
  refuseNonZero(q, "memory", "a memory limit");
  refuseNonZero(q, "memswap", "a swap limit");
  refuseNonZero(q, "cpushares", "CPU shares");
  refuseNonZero(q, "cpuperiod", "a CPU period");
  refuseNonZero(q, "cpuquota", "a CPU quota");
  refuseNonEmpty(q, "cpusetcpus", "a CPU set");
  refuseNonEmpty(q, "cpusetmems", "a memory node set");
  refuseNonEmpty(q, "cgroupparent", "a cgroup parent");
  const ulimits = queryJson(q, "ulimits", "ulimit settings");
  if (ulimits !== undefined) {
    if (!Array.isArray(ulimits)) throw invalidArgument("error reading ulimit settings: want a JSON list");
    if (ulimits.length > 0) throw notImplemented("ulimits are not supported for builds");
  }
  const cacheFrom = queryJson(q, "cachefrom", "cache-from");
  if (cacheFrom !== undefined) {
    if (!Array.isArray(cacheFrom)) throw invalidArgument("error reading cache-from: want a JSON list");
    if (cacheFrom.length > 0) {
      throw notImplemented("cache-from (cachefrom) is not supported: berth uses its local build cache");
    }
  }
  const network = q.get("networkmode") ?? "";
  if (!NETWORK_MODES.has(network)) {
    throw notImplemented(
      `network mode "${network}" is not supported for builds: use default, bridge, host or none`,
    );
  }

  const opts: Mutable<ImageBuildOptions> = {
    Tags: q.getAll("t").filter((t) => t !== ""),
    NoCache: queryBool(q, "nocache"),
    PullParent: queryBool(q, "pull"),
    SuppressOutput: queryBool(q, "q"),
  };
  // berth's own parameter (`berth build --explain-cache`, or BERTH_HINTS=0, through `berth -H`):
  // `all` (or a true boolean) explains every step, `none` (or a false one) no step.
  const explain = (q.get("explaincache") ?? "").trim().toLowerCase();
  if (explain === "all" || explain === "1" || explain === "true") opts.CacheExplanations = "all";
  else if (explain === "none" || explain === "0" || explain === "false") opts.CacheExplanations = "none";
  else if (explain === "changed") opts.CacheExplanations = "changed";
  else if (explain !== "")
    throw invalidArgument(`invalid explaincache value: "${explain}": use all, changed or none`);
  // berth's own parameter (`berth -H`): the client's directory the context came from, naming the
  // build's place for cache explanations.
  const contextKey = q.get("contextkey");
  if (contextKey) opts.ContextKey = contextKey;
  const dockerfile = q.get("dockerfile") ?? "";
  if (dockerfile !== "") opts.Dockerfile = dockerfile;
  const target = q.get("target") ?? "";
  if (target !== "") opts.Target = target;
  const platform = q.get("platform") ?? "";
  if (platform !== "") opts.Platform = platform;
  if (network === "host" || network === "none") opts.NetworkMode = network;
  const buildArgs = queryJson(q, "buildargs", "build args");
  if (buildArgs !== undefined) opts.BuildArgs = stringMap(buildArgs, "build args", true);
  const labels = queryJson(q, "labels", "labels");
  if (labels !== undefined) {
    const m = stringMap(labels, "labels", false);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(m)) out[k] = v ?? "";
    opts.Labels = out;
  }
  const auths = registryConfigHeader(headers);
  if (auths) opts.RegistryAuth = auths;
  return opts;
}

/**
 * X-Registry-Config: base64url JSON of registry → AuthConfig. Docker ignores a value it cannot
 * decode (a pull without credentials then says what is missing); berth refuses it, naming the
 * header, since a typo there would otherwise surface as a confusing registry error.
 */
export function registryConfigHeader(headers: IncomingHttpHeaders): Record<string, AuthConfig> | undefined {
  const raw = headers["x-registry-config"];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === "") return undefined;
  const parsed = decodeBase64Json(value, "X-Registry-Config");
  if (parsed === null) return undefined;
  if (!isRecord(parsed)) throw invalidArgument("invalid X-Registry-Config header: want a JSON object");
  const out: Record<string, AuthConfig> = {};
  for (const [server, v] of Object.entries(parsed)) {
    const auth = decodeAuthConfig(v, `X-Registry-Config[${server}]`);
    if (auth) out[server] = auth;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** One line of the classic builder's stream. */
export type LegacyBuildMessage = { readonly stream: string } | { readonly aux: { readonly ID: string } };

/**
 * `[stage 2/5] RUN …` (BuildKit's vertex name of a Dockerfile step) → stage, index, total, text.
 * Stages of a multi-stage build run concurrently and are numbered each on its own, so their
 * steps are printed with the stage's name in front (`[builder] Step 2/5 : RUN …`).
 */
const STEP_NAME = /^\[(?:([^\s\]]+) +)?\s*(\d+)\/(\d+)\] ([\s\S]*)$/;

/** The 12-hex short form of an image ID, as `Successfully built` prints it. */
function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/**
 * Translates the engine's build events into the classic builder's messages. Steps are the
 * vertices named `[i/n] INSTRUCTION`; internal vertices (loading the definition and context,
 * exporting) print nothing, as the classic builder has no such phases. With `quiet`, messages
 * are held back: a success yields only the image ID; a failure yields what was held, then fails.
 */
export async function* legacyBuildMessages(
  events: AsyncIterable<BuildEvent>,
  opts: { readonly quiet?: boolean } = {},
): AsyncIterable<LegacyBuildMessage> {
  const steps = new Set<number>();
  const held: LegacyBuildMessage[] = [];
  const emit = function* (m: LegacyBuildMessage): Iterable<LegacyBuildMessage> {
    if (opts.quiet) held.push(m);
    else yield m;
  };
  let imageId: string | undefined;
  try {
    for await (const e of events) {
      if (e.kind === "vertex") {
        const m = STEP_NAME.exec(e.name);
        if (!m) continue;
        if (e.status === "started") {
          steps.add(e.id);
          yield* emit({ stream: `${m[1] ? `[${m[1]}] ` : ""}Step ${m[2]}/${m[3]} : ${m[4]}\n` });
        } else if (e.status === "cached") {
          yield* emit({ stream: " ---> Using cache\n" });
        }
      } else if (e.kind === "log") {
        if (steps.has(e.id)) yield* emit({ stream: Buffer.from(e.data).toString("utf8") });
      } else {
        imageId = e.imageId;
        yield* emit({ aux: { ID: e.imageId } });
        yield* emit({ stream: `Successfully built ${shortId(e.imageId)}\n` });
        for (const t of e.tags) yield* emit({ stream: `Successfully tagged ${t}\n` });
      }
    }
  } catch (err) {
    yield* held;
    throw err;
  }
  if (opts.quiet && imageId) yield { stream: `${imageId}\n` };
}

/** POST /build/prune: `all`, `filters`, and the space limits (refused: berth has no cache policy). */
export function decodeBuildPrune(q: URLSearchParams): BuildCachePruneOptions {
  for (const name of ["keep-storage", "reserved-space", "max-used-space", "min-free-space"]) {
    const v = q.get(name);
    if (v === null || v === "" || v === "0") continue;
    if (!/^\d+$/.test(v)) throw invalidArgument(`${name} is in bytes and expects an integer, got ${v}`);
    throw notImplemented(`${name} is not supported: berth prunes by filters and all only`);
  }
  const filters = queryFilters(q);
  return { All: queryBool(q, "all"), ...(filters ? { Filters: filters } : {}) };
}

/**
 * The context tar as the builder reads it. The docker CLI, when it adds a Dockerfile from outside
 * the context (`-f ../Dockerfile`, `-f -`), sends a tar that stops right after the last file's
 * bytes: no padding to the 512-byte block and no end-of-archive blocks (dockerd's reader
 * accepts that). An uncompressed body therefore gets its padding and the two zero blocks at the
 * end; zero blocks after an end-of-archive marker are what any tar may carry, so a complete tar
 * reads the same. Compressed bodies (gzip, bzip2, xz, zstd) pass as they are.
 */
export async function* completedTar(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let size = 0;
  let head = Buffer.alloc(0);
  for await (const chunk of body) {
    if (head.length < 6) head = Buffer.concat([head, Buffer.from(chunk.subarray(0, 6 - head.length))]);
    size += chunk.length;
    yield chunk;
  }
  if (size === 0 || isCompressed(head)) return;
  yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

function isCompressed(head: Buffer): boolean {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  return (
    starts(0x1f, 0x8b) || // gzip
    starts(0x42, 0x5a, 0x68) || // bzip2
    starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || // xz
    starts(0x28, 0xb5, 0x2f, 0xfd) // zstd
  );
}

/** berth's own event messages (engine/build-events.ts), for a client that asked for them. */
async function* buildEventMessages(events: AsyncIterable<BuildEvent>): AsyncIterable<BuildEventMessage> {
  for await (const e of events) yield encodeBuildEvent(e);
}

async function build(ctx: RequestContext): Promise<void> {
  const opts = decodeBuildQuery(ctx.query, ctx.req.headers);
  const context = { kind: "tar" as const, stream: completedTar(requestBody(ctx.req)) };
  const events = ctx.engine.imageBuild(context, { ...opts, signal: ctx.signal });
  await sendJsonMessages(
    ctx.res,
    queryBool(ctx.query, BUILD_EVENTS_PARAM)
      ? buildEventMessages(events)
      : legacyBuildMessages(events, { quiet: opts.SuppressOutput === true }),
  );
}

/** Registers /build, /build/prune, and BuildKit's endpoints as not supported. */
export function buildRoutes(router: Router): void {
  router.post("/build", build);
  router.post("/build/prune", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.buildPrune(decodeBuildPrune(ctx.query)));
  });
  router.post("/build/cancel", async () => {
    throw notImplemented("build cancel is not supported: close the POST /build connection to cancel a build");
  });
  const noBuildKit = async () => {
    throw notImplemented("BuildKit sessions are not supported: berth serves the classic builder API");
  };
  router.post("/session", noBuildKit);
  router.post("/grpc", noBuildKit);
}
