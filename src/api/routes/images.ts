/**
 * The image endpoints of the Docker Engine API: list, pull and import (POST /images/create),
 * push, tag, remove, history, inspect, save (GET /images/{name}/get, /images/get), load, prune,
 * search and GET /distribution/{name}/json. Query parameters and headers are decoded here into
 * the engine's options; what berth cannot do is refused with a one-line error, never ignored.
 */
import type { IncomingHttpHeaders } from "node:http";
import { errorMessage, invalidArgument, notImplemented } from "../../base/errors.js";
import type {
  AuthConfig,
  ImageListOptions,
  ImageLoadOptions,
  ImageLoadResult,
  ImagePullOptions,
  ImagePushOptions,
  ImageRemoveOptions,
  ProgressEvent,
} from "../../engine/types.js";
import { familiarString, parseNormalizedNamed, trimReference, withTag } from "../../oci/reference.js";
import { Fields, filterOptions, queryBool, queryFilters } from "../decode.js";
import { readJson, requestBody, sendJson } from "../http.js";
import type { RequestContext, Router } from "../router.js";
import { drained } from "../streams.js";
import { sendJsonMessages } from "./progress.js";

// ---------------------------------------------------------------------------------------------
// Decoders (pure)

/**
 * X-Registry-Auth (and each entry of X-Registry-Config): base64url-encoded JSON AuthConfig.
 * Absent or empty is undefined. A legacy `auth` field (base64 of `user:password`) fills in the
 * username and password when they are not given.
 */
export function decodeAuthConfig(value: unknown, what = "X-Registry-Auth"): AuthConfig | undefined {
  const f = new Fields(value, what);
  const out: { -readonly [K in keyof AuthConfig]: AuthConfig[K] } = {};
  const username = f.string("username");
  const password = f.string("password");
  const auth = f.string("auth");
  if (username) out.username = username;
  if (password) out.password = password;
  if (auth && !out.username && !out.password) {
    const plain = Buffer.from(auth, "base64").toString("utf8");
    const colon = plain.indexOf(":");
    if (colon < 0) throw invalidArgument(`invalid ${what}: auth is not base64 of user:password`);
    out.username = plain.slice(0, colon);
    out.password = plain.slice(colon + 1);
  }
  const identitytoken = f.string("identitytoken");
  const registrytoken = f.string("registrytoken");
  const serveraddress = f.string("serveraddress");
  if (identitytoken) out.identitytoken = identitytoken;
  if (registrytoken) out.registrytoken = registrytoken;
  if (serveraddress) out.serveraddress = serveraddress;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Parses a base64url (or standard base64) JSON header value. */
export function decodeBase64Json(header: string, what: string): unknown {
  const text = Buffer.from(header.trim(), "base64url").toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidArgument(`invalid ${what} header: ${errorMessage(err)}`);
  }
}

export function registryAuthHeader(headers: IncomingHttpHeaders): AuthConfig | undefined {
  const raw = headers["x-registry-auth"];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === "") return undefined;
  return decodeAuthConfig(decodeBase64Json(value, "X-Registry-Auth"));
}

/** GET /images/json. `manifests` (per-platform summaries) is refused: berth keeps one per image. */
export function decodeImageList(q: URLSearchParams): ImageListOptions & { sharedSize: boolean } {
  if (queryBool(q, "manifests")) {
    throw notImplemented("manifests=1 is not supported: berth stores one platform per image");
  }
  const filters = queryFilters(q);
  return {
    all: queryBool(q, "all"),
    digests: queryBool(q, "digests"),
    sharedSize: queryBool(q, "shared-size"),
    ...(filters ? { filters } : {}),
  };
}

/**
 * A `tag` parameter joined to a repository the way dockerd does: a digest (`sha256:…`) makes a
 * digest reference, anything else replaces the tag.
 */
export function joinTag(repository: string, tag: string): string {
  const ref = parseNormalizedNamed(repository);
  if (tag === "") return familiarString(ref);
  if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(tag)) {
    return familiarString(parseNormalizedNamed(`${familiarString(trimReference(ref))}@${tag}`));
  }
  return familiarString(withTag(trimReference(ref), tag));
}

export type ImageCreateRequest =
  | {
      readonly kind: "pull";
      readonly reference: string;
      readonly allTags: boolean;
      readonly platform?: string;
    }
  | {
      readonly kind: "import";
      readonly reference?: string;
      readonly changes: readonly string[];
      readonly message?: string;
      readonly platform?: string;
    };

/**
 * POST /images/create: `fromImage` (+ `tag`, `platform`) pulls; with no tag and a name alone it
 * pulls every tag of the repository, as dockerd does. `fromSrc=-` imports the request body
 * (`repo`, `tag`, `changes`, `message`, `platform`); a URL source is refused (berth fetches
 * nothing but registries it is told about).
 */
export function decodeImageCreate(q: URLSearchParams): ImageCreateRequest {
  const fromImage = q.get("fromImage") ?? "";
  const fromSrc = q.get("fromSrc") ?? "";
  const tag = q.get("tag") ?? "";
  const platform = q.get("platform") || undefined;
  if (fromImage !== "") {
    if (fromSrc !== "") throw invalidArgument("fromImage and fromSrc cannot be used together");
    const ref = parseNormalizedNamed(fromImage);
    const nameOnly = ref.tag === undefined && ref.digest === undefined;
    return {
      kind: "pull",
      reference: tag === "" ? fromImage : joinTag(fromImage, tag),
      allTags: nameOnly && tag === "",
      ...(platform ? { platform } : {}),
    };
  }
  if (fromSrc === "") throw invalidArgument("either fromImage or fromSrc must be given");
  if (fromSrc !== "-") {
    throw notImplemented(
      `importing from a URL is not supported: ${fromSrc} (send the archive as the body, fromSrc=-)`,
    );
  }
  const repo = q.get("repo") ?? "";
  if (repo === "" && tag !== "") throw invalidArgument("tag given without repo");
  const message = q.get("message");
  return {
    kind: "import",
    ...(repo !== "" ? { reference: tag === "" ? repo : joinTag(repo, tag) } : {}),
    changes: q.getAll("changes"),
    ...(message ? { message } : {}),
    ...(platform ? { platform } : {}),
  };
}

/** POST /images/{name}/push: `tag` narrows to one tag; a bare repository pushes every tag. */
export function decodeImagePush(name: string, q: URLSearchParams): { reference: string; allTags: boolean } {
  const platform = q.get("platform");
  if (platform) throw notImplemented("push --platform is not supported: berth stores one platform per image");
  const tag = q.get("tag") ?? "";
  const ref = parseNormalizedNamed(name);
  if (ref.digest !== undefined) throw invalidArgument("cannot push a digest reference");
  if (tag !== "") return { reference: joinTag(name, tag), allTags: false };
  return { reference: name, allTags: ref.tag === undefined };
}

/** POST /images/{name}/tag: `repo` (required) and `tag`. */
export function decodeImageTag(q: URLSearchParams): string {
  const repo = q.get("repo") ?? "";
  const tag = q.get("tag") ?? "";
  if (repo === "") throw invalidArgument("repository name must have at least one component");
  const ref = parseNormalizedNamed(repo);
  if (ref.digest !== undefined) throw invalidArgument("refusing to create a tag with a digest reference");
  return tag === "" ? repo : joinTag(repo, tag);
}

export function decodeImageRemove(q: URLSearchParams): ImageRemoveOptions {
  if (q.getAll("platforms").some((p) => p !== "")) {
    throw notImplemented(
      "removing one platform of an image is not supported: berth stores one platform per image",
    );
  }
  return { force: queryBool(q, "force"), noprune: queryBool(q, "noprune") };
}

/**
 * `platform` of save and load: one platform as `os/arch[/variant]`, or (API 1.48+) a JSON OCI
 * platform object. Several are refused: berth stores one platform per image.
 */
export function decodePlatformParam(q: URLSearchParams): string | undefined {
  const values = q.getAll("platform").filter((p) => p !== "");
  if (values.length === 0) return undefined;
  if (values.length > 1) throw notImplemented("more than one platform is not supported");
  const v = values[0] as string;
  if (!v.trimStart().startsWith("{")) return v;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v) as unknown;
  } catch (err) {
    throw invalidArgument(`invalid platform: ${errorMessage(err)}`);
  }
  const f = new Fields(parsed, "platform");
  const os = f.string("os") ?? "";
  const arch = f.string("architecture") ?? "";
  const variant = f.string("variant") ?? "";
  if (os === "" || arch === "") throw invalidArgument("invalid platform: os and architecture are required");
  return [os, arch, variant].filter((s) => s !== "").join("/");
}

/** The lines dockerd writes after a load, as the docker CLI prints them. */
export function loadMessages(result: ImageLoadResult): Array<{ stream: string }> {
  const out: Array<{ stream: string }> = [];
  for (const r of result.replaced ?? []) {
    out.push({
      stream: `The image ${familiar(r.reference)} already exists, renaming the old one with ID ${r.previous} to empty string\n`,
    });
  }
  for (const l of result.loaded) {
    out.push({
      stream: l.reference ? `Loaded image: ${familiar(l.reference)}\n` : `Loaded image ID: ${l.id}\n`,
    });
  }
  return out;
}

function familiar(ref: string): string {
  return familiarString(parseNormalizedNamed(ref));
}

// ---------------------------------------------------------------------------------------------
// Handlers

async function* once<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

async function imageCreate(ctx: RequestContext): Promise<void> {
  const req = decodeImageCreate(ctx.query);
  if (req.kind === "pull") {
    const auth = registryAuthHeader(ctx.req.headers);
    const opts: ImagePullOptions = {
      allTags: req.allTags,
      signal: ctx.signal,
      ...(auth ? { auth } : {}),
      ...(req.platform ? { platform: req.platform } : {}),
    };
    await sendJsonMessages(ctx.res, ctx.engine.imagePull(req.reference, opts));
    return;
  }
  const result = await ctx.engine.imageImport(requestBody(ctx.req), {
    changes: req.changes,
    signal: ctx.signal,
    ...(req.reference ? { reference: req.reference } : {}),
    ...(req.message ? { message: req.message } : {}),
    ...(req.platform ? { platform: req.platform } : {}),
  });
  await sendJsonMessages(ctx.res, once([{ status: result.id }]));
}

async function imagePush(ctx: RequestContext): Promise<void> {
  const { reference, allTags } = decodeImagePush(ctx.params.name ?? "", ctx.query);
  const auth = registryAuthHeader(ctx.req.headers);
  const opts: ImagePushOptions = { allTags, signal: ctx.signal, ...(auth ? { auth } : {}) };
  await sendJsonMessages(ctx.res, ctx.engine.imagePush(reference, opts));
}

/**
 * A load as dockerd streams it: without `quiet`, each layer's `Loading layer` progress while the
 * archive is read, then the `Loaded image` lines; with it, only those lines.
 */
async function* loadStream(ctx: RequestContext, opts: ImageLoadOptions): AsyncIterable<unknown> {
  const queue: ProgressEvent[] = [];
  let wake: (() => void) | undefined;
  let outcome: { readonly result: ImageLoadResult } | { readonly error: unknown } | undefined;
  const onProgress = (e: ProgressEvent) => {
    queue.push(e);
    wake?.();
  };
  void ctx.engine
    .imageLoad(requestBody(ctx.req), { ...opts, ...(opts.quiet ? {} : { onProgress }) })
    .then(
      (result) => {
        outcome = { result };
      },
      (error: unknown) => {
        outcome = { error };
      },
    )
    .finally(() => wake?.());
  for (;;) {
    const next = queue.shift();
    if (next) {
      yield next;
      continue;
    }
    if (outcome) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  if ("error" in outcome) throw outcome.error;
  yield* loadMessages(outcome.result);
}

async function imageLoad(ctx: RequestContext): Promise<void> {
  const platform = decodePlatformParam(ctx.query);
  const quiet = queryBool(ctx.query, "quiet");
  await sendJsonMessages(
    ctx.res,
    loadStream(ctx, { quiet, signal: ctx.signal, ...(platform ? { platform } : {}) }),
  );
}

async function imageSave(ctx: RequestContext, names: readonly string[]): Promise<void> {
  if (names.length === 0) throw invalidArgument("no image names given (names=…)");
  const platform = decodePlatformParam(ctx.query);
  const stream = await ctx.engine.imageSave(names, { signal: ctx.signal, ...(platform ? { platform } : {}) });
  ctx.res.writeHead(200, { "Content-Type": "application/x-tar" });
  for await (const chunk of stream) {
    if (ctx.res.destroyed) break;
    if (!ctx.res.write(chunk)) await drained(ctx.res);
  }
  ctx.res.end();
}

/** Registers the image routes. */
export function imageRoutes(router: Router): void {
  router.get("/images/json", async (ctx) => {
    const { sharedSize, ...opts } = decodeImageList(ctx.query);
    sendJson(ctx.res, 200, await ctx.engine.imageList({ ...opts, sharedSize }));
  });
  router.post("/images/create", imageCreate);
  router.post("/images/load", imageLoad);
  router.get("/images/get", (ctx) => imageSave(ctx, ctx.query.getAll("names")));
  router.post("/images/prune", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.imagePrune(filterOptions(ctx.query)));
  });
  router.get("/images/search", async () => {
    throw notImplemented("image search is not supported: berth has no registry index configured");
  });
  router.get("/images/{name:.*}/json", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.imageInspect(ctx.params.name ?? ""));
  });
  router.get("/images/{name:.*}/history", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.imageHistory(ctx.params.name ?? ""));
  });
  // berth's own: the layer analysis `berth image analyze` prints (no Docker API counterpart).
  router.get("/images/{name:.*}/analyze", async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.imageAnalyze(ctx.params.name ?? ""));
  });
  router.get("/images/{name:.*}/get", (ctx) => imageSave(ctx, [ctx.params.name ?? ""]));
  router.post("/images/{name:.*}/push", imagePush);
  router.post("/images/{name:.*}/tag", async (ctx) => {
    const target = decodeImageTag(ctx.query);
    await ctx.engine.imageTag(ctx.params.name ?? "", target);
    ctx.res.writeHead(201).end();
  });
  router.delete("/images/{name:.*}", async (ctx) => {
    const opts = decodeImageRemove(ctx.query);
    sendJson(ctx.res, 200, await ctx.engine.imageRemove(ctx.params.name ?? "", opts));
  });
  router.get("/distribution/{name:.*}/json", async (ctx) => {
    const auth = registryAuthHeader(ctx.req.headers);
    sendJson(
      ctx.res,
      200,
      await ctx.engine.distributionInspect(ctx.params.name ?? "", {
        signal: ctx.signal,
        ...(auth ? { auth } : {}),
      }),
    );
  });
}

/** POST /auth: checks credentials against a registry (the docker CLI stores them on success). */
export function registryRoutes(router: Router): void {
  router.post("/auth", async (ctx) => {
    const body = await readJson(ctx.req, ctx.limits);
    const auth = decodeAuthConfig(body ?? {}, "auth request") ?? {};
    sendJson(ctx.res, 200, await ctx.engine.registryLogin(auth));
  });
}
