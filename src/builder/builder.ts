/**
 * The build executor: a Dockerfile and a context in, an image out, with BuildKit's progress
 * events on the way.
 *
 * Lifecycle of one build: open the context (directory, extracted tar, or a Dockerfile alone),
 * parse and plan (stages, target, the stages it needs), resolve base images (pulling only when
 * missing or with --pull), then build the needed stages — independent stages concurrently, each
 * stage's steps in order. Metadata instructions change the config and add an empty-layer history
 * row; RUN runs in a runc container over an overlay of the parent layers (never a berth
 * container: no record, not in `ps`); COPY/ADD/WORKDIR write into such an overlay directly; the
 * upper directory's diff is ingested as the step's layer. Only the target stage's layers reach
 * the image, which is recorded at the end with its tags in one transaction.
 *
 * Cache: every step has a key — sha256 of the parent step's key, the step as it runs (expanded,
 * with the build args and environment it sees) and, for COPY/ADD, the checksum of the copied
 * files; the base image's ID starts the chain. A hit reuses the recorded layer and the history
 * row's time, so a fully cached rebuild runs nothing and produces the same image ID.
 *
 * Failure: a failing step (RUN's exit code, a missing COPY source) aborts every stage, removes
 * the workspaces, and records no image; steps that finished before stay in the cache, as in
 * Docker.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join, posix, resolve } from "node:path";
import {
  BerthError,
  canceled,
  errorMessage,
  invalidArgument,
  isBerthError,
  notFound,
} from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import type { HostPlatform } from "../config/host.js";
import type {
  BuildContextSource,
  BuildEvent,
  ContainerConfig,
  HostConfig,
  ImageBuildOptions,
} from "../engine/types.js";
import { parseTarget } from "../images/service.js";
import type { ImageStore, IngestedLayer } from "../images/store.js";
import type { BuildCacheMetadata } from "../metadata/build-cache.js";
import type { Lease } from "../metadata/leases.js";
import { resolvConf } from "../network/hosts.js";
import { type Digest, parseDigest } from "../oci/digest.js";
import type { HistoryEntry, ImageConfig } from "../oci/image.js";
import { formatPlatform, normalizePlatform, parsePlatform } from "../oci/platform.js";
import { familiarString, referenceString } from "../oci/reference.js";
import type { RuntimeDriver } from "../runtime/driver.js";
import type { HostFacts, UserMount } from "../runtime/spec/generate.js";
import { buildRuntimeSpec } from "../runtime/spec/generate.js";
import { serializeRuntimeSpec } from "../runtime/spec/types.js";
import { resolveUser } from "../runtime/spec/user.js";
import { readTextIfExists, writeFileReplace } from "../sys/fs.js";

import { readFileInRoot, resolveInRoot } from "../sys/root-path.js";
import { explainMiss, parseStepInputs, type StepInputs } from "./cache-explain.js";
import { type BuildContext, openContext } from "./context.js";
import { applyCopy, checksumCopy, planCopy, type SourceRoot } from "./copy.js";
import type { Command } from "./dockerfile/commands.js";
import { DockerfileError, parseDockerfile } from "./dockerfile/parse.js";
import {
  DEFAULT_PATH,
  type Dispatched,
  dispatch,
  envMap,
  HISTORY_COMMENT,
  initialState,
  type RunStep,
  type StageState,
  type WorkdirStep,
} from "./instructions/dispatch.js";
import {
  type BuildPlan,
  planBuild,
  SCRATCH,
  type Stage,
  stepPrefix,
  stepTotal,
  toCommand,
} from "./instructions/plan.js";
import { Workspace } from "./workspace.js";

export interface BuilderDeps {
  readonly store: ImageStore;
  /** A runtime driver whose containers directory is `<root>/builds` (step workspaces). */
  readonly driver: RuntimeDriver;
  readonly cache: BuildCacheMetadata;
  /** `<root>/tmp`: extracted tar contexts. */
  readonly tmpDir: string;
  /** `<root>/build-mounts`: persistent directories of RUN --mount=type=cache. */
  readonly cacheMountsDir: string;
  readonly hostPlatform: HostPlatform;
  readonly hostFacts: () => Promise<HostFacts>;
  /**
   * Network namespaces on the default bridge for RUN steps with the default network (the
   * network service's build sandboxes). Without it, such steps get loopback only.
   */
  readonly sandbox?: {
    attach(id: string): Promise<{ readonly netnsPath: string }>;
    detach(id: string): Promise<void>;
  };
  /** Pulls an image into the store (the engine's pull with its registry settings). */
  readonly pull: (reference: string, signal: AbortSignal) => Promise<void>;
  readonly now?: () => number;
}

interface StageResult {
  readonly layers: readonly IngestedLayer[];
  readonly state: StageState;
  readonly history: readonly HistoryEntry[];
  readonly platform: { architecture: string; os: string; variant?: string | undefined };
  readonly key: string;
}

/** /etc/hosts of a RUN step, as BuildKit writes it. */
const BUILD_HOSTS = "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/** A resolved base image. */
interface BaseImage {
  readonly id: Digest;
  readonly reference: string;
  readonly config: ImageConfig;
  readonly layers: readonly IngestedLayer[];
}

type Emit = (e: BuildEvent) => void;

/** Runs a build; events stream while it runs; a failure ends the stream with the error. */
export function buildImage(
  deps: BuilderDeps,
  source: BuildContextSource,
  opts: ImageBuildOptions = {},
): AsyncIterable<BuildEvent> {
  return eventStream((emit) => new Build(deps, opts, emit).run(source));
}

/** Turns a producer that emits events into an async iterable that ends with its result. */
async function* eventStream(produce: (emit: Emit) => Promise<void>): AsyncIterable<BuildEvent> {
  const queue: BuildEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  const emit: Emit = (e) => {
    queue.push(e);
    wake?.();
  };
  produce(emit).then(
    () => {
      finished = true;
      wake?.();
    },
    (err: unknown) => {
      failure = err;
      finished = true;
      wake?.();
    },
  );
  for (;;) {
    while (queue.length > 0) yield queue.shift() as BuildEvent;
    if (finished) break;
    await new Promise<void>((r) => {
      wake = r;
    });
    wake = undefined;
  }
  while (queue.length > 0) yield queue.shift() as BuildEvent;
  if (failure !== undefined) throw failure;
}

function sha(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

class Build {
  private nextVertex = 1;
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private ctx!: BuildContext;
  private plan!: BuildPlan;
  private readonly buildArgs = new Map<string, string>();
  private readonly bases = new Map<string, BaseImage>();
  private readonly stageResults = new Map<number, Promise<StageResult>>();
  /** Holds the base layers, cache hits and new layers until the image is recorded. */
  private lease!: Lease;
  /**
   * Which build this is, for comparing each step with the same step of the previous build: the
   * context directory (or, for a tar or a Dockerfile alone, the tags) and the Dockerfile's name.
   */
  private identity = "";

  constructor(
    private readonly deps: BuilderDeps,
    private readonly opts: ImageBuildOptions,
    private readonly emit: Emit,
  ) {
    this.now = deps.now ?? Date.now;
    opts.signal?.addEventListener("abort", () => this.abort.abort(opts.signal?.reason), { once: true });
    for (const [k, v] of Object.entries(opts.BuildArgs ?? {})) if (v !== null) this.buildArgs.set(k, v);
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Runs `fn` as a progress vertex: started, then done (with its duration) or error. */
  private async vertex<T>(name: string, fn: (id: number) => Promise<T>): Promise<T> {
    const id = this.nextVertex++;
    const start = this.now();
    this.emit({ kind: "vertex", id, name, status: "started" });
    try {
      const out = await fn(id);
      this.emit({ kind: "vertex", id, name, status: "done", durationMs: this.now() - start });
      return out;
    } catch (err) {
      if (!(err instanceof CachedStep)) {
        this.emitError(id, name, start, err);
      }
      throw err;
    }
  }

  private emitError(id: number, name: string, start: number, err: unknown): void {
    this.emit({
      kind: "vertex",
      id,
      name,
      status: "error",
      durationMs: this.now() - start,
      error: errorMessage(err),
    });
  }

  private log(id: number, text: string): void {
    this.emit({ kind: "log", id, stream: 1, data: Buffer.from(`${text}\n`) });
  }

  async run(source: BuildContextSource): Promise<void> {
    this.lease = this.deps.store.leases.create();
    try {
      await this.runLeased(source);
    } finally {
      this.lease.release();
    }
  }

  private async runLeased(source: BuildContextSource): Promise<void> {
    if (this.opts.Platform) {
      const host = this.deps.hostPlatform;
      const wanted = parsePlatform(this.opts.Platform, host);
      if (formatPlatform(normalizePlatform(wanted)) !== formatPlatform(normalizePlatform(host))) {
        throw invalidArgument(
          `building for ${formatPlatform(wanted)} is not supported: berth builds for the host's platform (${formatPlatform(host)})`,
        );
      }
    }
    const dockerfileName = this.opts.Dockerfile ?? "Dockerfile";
    this.identity = sha(
      JSON.stringify({
        context: source.kind === "directory" ? resolve(source.path) : (this.opts.ContextKey ?? source.kind),
        tags:
          source.kind === "directory" || this.opts.ContextKey !== undefined
            ? []
            : [...(this.opts.Tags ?? [])].sort(),
        dockerfile: dockerfileName,
      }),
    );
    this.ctx = await this.vertex(
      `[internal] load build definition from ${posix.basename(dockerfileName)}`,
      async (id) => {
        const ctx = await openContext(source, {
          tmpDir: this.deps.tmpDir,
          dockerfile: this.opts.Dockerfile,
          dockerfileText: this.opts.DockerfileText,
          signal: this.signal,
        });
        this.log(id, `transferring dockerfile: ${Buffer.byteLength(ctx.dockerfileText)}B done`);
        return ctx;
      },
    );
    try {
      const df = parseDockerfile(this.ctx.dockerfileText, { file: posix.basename(dockerfileName) });
      this.plan = planBuild(df, { target: this.opts.Target, buildArgs: this.buildArgs });
      this.checkStagePlatforms();
      await this.resolveBases();
      await this.vertex("[internal] load .dockerignore", async (id) => {
        this.log(id, `transferring context: ${this.ctx.ignoreBytes}B done`);
      });
      await this.vertex("[internal] load build context", async (id) => {
        this.log(id, "transferring context: done");
      });
      for (const i of this.plan.needed) this.startStage(i);
      const results = await Promise.allSettled([...this.stageResults.values()]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      // The first failure is the abort's reason; later ones are its cancellations.
      if (failed) throw this.signal.reason instanceof Error ? this.signal.reason : failed.reason;
      const target = await (this.stageResults.get(this.plan.target) as Promise<StageResult>);
      await this.export(target);
    } finally {
      await this.ctx.close();
    }
  }

  /**
   * `FROM --platform=…` of a needed stage: berth builds for the host's platform only, so the host's
   * is honoured and any other refused (an empty value, as from an unset ARG, is no platform).
   */
  private checkStagePlatforms(): void {
    const host = this.deps.hostPlatform;
    const hostText = formatPlatform(normalizePlatform(host));
    for (const i of this.plan.needed) {
      const stage = this.plan.stages[i] as Stage;
      if (stage.platform === undefined || stage.platform === "") continue;
      const line = stage.from.node.startLine;
      let wanted: string;
      try {
        wanted = formatPlatform(normalizePlatform(parsePlatform(stage.platform, host)));
      } catch (err) {
        if (isBerthError(err, "InvalidArgument")) {
          throw new DockerfileError(this.plan.dockerfile.file, line, err.message);
        }
        throw err;
      }
      if (wanted !== hostText) {
        throw new DockerfileError(
          this.plan.dockerfile.file,
          line,
          `FROM --platform=${stage.platform} is not supported: berth builds for the host's platform (${hostText})`,
        );
      }
    }
  }

  /** Finds (or pulls) every image a needed stage starts from or copies from. */
  private async resolveBases(): Promise<void> {
    const names = new Set<string>();
    for (const i of this.plan.needed) {
      const s = this.plan.stages[i] as Stage;
      if (s.baseStage === undefined && s.base !== SCRATCH) names.add(s.base);
      for (const img of s.usesImages) names.add(img);
    }
    for (const name of names) {
      const ref = parseTarget(name);
      const full = referenceString(ref);
      await this.vertex(`[internal] load metadata for ${full}`, async () => {
        let found = this.deps.store.lookup(name);
        if (!found || this.opts.PullParent) {
          try {
            await this.deps.pull(name, this.signal);
          } catch (err) {
            if (!found || !this.opts.PullParent) {
              throw notFound(`failed to resolve source metadata for ${full}: ${errorMessage(err)}`, err);
            }
          }
          found = this.deps.store.lookup(name);
        }
        if (!found) throw notFound(`failed to resolve source metadata for ${full}: No such image: ${name}`);
        const config = await this.deps.store.config(found.rec.id);
        const layers = await this.deps.store.storedLayers(found.rec.id);
        await this.deps.store.leaseLayers(layers, this.lease);
        this.bases.set(name, { id: found.rec.id, reference: full, config, layers });
      });
    }
  }

  private startStage(index: number): Promise<StageResult> {
    const existing = this.stageResults.get(index);
    if (existing) return existing;
    const p = this.buildStage(this.plan.stages[index] as Stage).catch((err: unknown) => {
      this.abort.abort(err);
      throw err;
    });
    // Marked handled here: every waiter awaits `p` itself, and the abort above carries the error.
    p.catch(() => undefined);
    this.stageResults.set(index, p);
    return p;
  }

  private async buildStage(stage: Stage): Promise<StageResult> {
    const file = this.plan.dockerfile.file;
    let state: StageState;
    let layers: IngestedLayer[];
    let history: HistoryEntry[];
    let key: string;
    let platform: StageResult["platform"];
    let baseText: string;
    const triggers: Command[] = [];
    if (stage.baseStage !== undefined) {
      const parent = await this.startStage(stage.baseStage);
      state = structuredClone(parent.state);
      state.args = [];
      state.cmdSet = false;
      layers = [...parent.layers];
      history = [...parent.history];
      key = parent.key;
      platform = parent.platform;
      baseText = `stage ${this.plan.stages[stage.baseStage]?.label || stage.baseStage}`;
    } else if (stage.base === SCRATCH) {
      state = initialState(undefined);
      layers = [];
      history = [];
      key = sha("scratch");
      platform = { ...this.deps.hostPlatform };
      baseText = SCRATCH;
    } else {
      const base = this.bases.get(stage.base) as BaseImage;
      state = initialState({
        ...(base.config.config ? { config: base.config.config } : {}),
        ...(base.config.author ? { author: base.config.author } : {}),
      });
      layers = [...base.layers];
      history = [...(base.config.history ?? [])];
      key = sha(`from ${base.id}`);
      baseText = `${base.reference}@${base.id}`;
      platform = { architecture: base.config.architecture, os: base.config.os, variant: base.config.variant };
      for (const t of base.config.config?.OnBuild ?? []) {
        const parsed = parseDockerfile(t, { file, triggers: true });
        triggers.push(...parsed.instructions.map((i) => toCommand(file, parsed.escape, i)));
      }
    }
    // Stages this one copies from run concurrently; a COPY --from waits for its stage.
    for (const u of stage.uses) void this.startStage(u);
    const total = stepTotal(stage, triggers);
    let index = 0;
    if (stage.baseStage === undefined && stage.base !== SCRATCH) {
      const base = this.bases.get(stage.base) as BaseImage;
      index++;
      await this.vertex(
        `${stepPrefix(stage.label, index, total)}FROM ${base.reference}`,
        async () => undefined,
      );
    }
    const all = [
      ...triggers.map((t) => ({ instr: t, onbuild: true })),
      ...stage.instructions.map((instr) => ({ instr, onbuild: false })),
    ];
    let ranBefore: string | undefined;
    for (const { instr, onbuild } of all) {
      this.signal.throwIfAborted();
      const d = dispatch(state, instr, {
        file,
        escape: this.plan.dockerfile.escape,
        buildArgs: this.buildArgs,
        metaArgs: this.plan.metaArgs,
      });
      if (d.action.kind === "config") {
        if (!d.history) continue;
        key = sha(`${key}\n${d.cacheText}`);
        const created = this.cachedTime(key, d.display);
        history.push({
          created,
          created_by: d.history.created_by,
          comment: HISTORY_COMMENT,
          empty_layer: true,
        });
        continue;
      }
      index++;
      const name = `${stepPrefix(stage.label, index, total)}${onbuild ? "ONBUILD " : ""}${d.display}`;
      const out = await this.layerStep(name, d, layers, key, stage, {
        slot: sha(`${this.identity}\n${stage.index}\n${index}`),
        base: baseText,
        args: Object.fromEntries(state.args.map(([k, v]) => [k, v ?? ""])),
        env: Object.fromEntries(envMap(state.config.Env)),
        ranBefore,
      });
      if (!out.cached) ranBefore = name;
      key = out.key;
      if (out.layer) layers.push(out.layer);
      history.push({
        created: out.created,
        created_by: d.history?.created_by ?? "",
        comment: HISTORY_COMMENT,
        ...(out.layer ? {} : { empty_layer: true }),
      });
    }
    return { layers, state, history, platform, key };
  }

  /** The time of a metadata step: the cached one, or now (recorded). */
  private cachedTime(key: string, description: string): string {
    const hit = this.opts.NoCache ? undefined : this.deps.cache.get(key);
    if (hit) return hit.created;
    const created = new Date(this.now()).toISOString();
    const at = this.now();
    this.deps.store.db.write(() =>
      this.deps.cache.put({
        key,
        parentKey: "",
        description,
        created,
        diffId: "",
        chainId: "",
        size: 0,
        createdAt: at,
        lastUsed: at,
      }),
    );
    return created;
  }

  /*
   * Long on purpose: one step's whole life as BuildKit reports it — vertex started, cache lookup,
   * the workspace mounted only when needed, the step run, its layer ingested and recorded, then
   * completed, cached or canceled — with the workspace released on every path.
   */
  private async layerStep(
    name: string,
    d: Dispatched,
    layers: readonly IngestedLayer[],
    parentKey: string,
    stage: Stage,
    explain: StepPlace,
  ): Promise<{ key: string; layer: IngestedLayer | undefined; created: string; cached: boolean }> {
    const id = this.nextVertex++;
    const start = this.now();
    this.emit({ kind: "vertex", id, name, status: "started" });
    // The workspace is mounted only when needed: for a COPY's checksum, or to run a step.
    let opened: Workspace | undefined;
    const workspace = async (): Promise<Workspace> => {
      opened ??= await Workspace.open(
        this.deps.driver,
        layers.map((l) => l.chainId),
      );
      return opened;
    };
    let source: { root: SourceRoot; close: () => Promise<void> } | undefined;
    let copyPlanOf: Awaited<ReturnType<typeof planCopy>> | undefined;
    try {
      let key = sha(`${parentKey}\n${d.cacheText}`);
      let copyPlan: Awaited<ReturnType<typeof planCopy>> | undefined;
      let files: Readonly<Record<string, string>> = {};
      if (d.action.kind === "copy") {
        source = await this.copySource(d.action.from, stage);
        await mkdir(this.deps.tmpDir, { recursive: true });
        copyPlan = await planCopy(d.action, source.root, (await workspace()).rootfs, {
          downloadDir: this.deps.tmpDir,
          signal: this.signal,
          progress: (line) => this.emit({ kind: "log", id, stream: 1, data: Buffer.from(`${line}\n`) }),
        });
        copyPlanOf = copyPlan;
        const sum = await checksumCopy(copyPlan, source.root.dir);
        files = sum.files;
        key = sha(`${key}\n${sum.digest}`);
      }
      const inputs: StepInputs = {
        key,
        parentKey,
        instruction: d.history?.created_by ?? d.display,
        base: explain.base,
        args: explain.args,
        env: explain.env,
        files,
      };
      const recordInputs = (): void =>
        this.deps.cache.putStepInputs(explain.slot, key, JSON.stringify(inputs), this.now());
      const hit = this.opts.NoCache ? undefined : this.deps.cache.get(key);
      const hitLayer = hit?.chainId
        ? await this.deps.store.knownLayer(parseDigest(hit.diffId), parseDigest(hit.chainId), this.lease)
        : undefined;
      if (hit && (hit.chainId === "" || hitLayer)) {
        if (this.opts.CacheExplanations === "all") this.log(id, "cache hit");
        this.deps.store.db.write(() => {
          this.deps.cache.touch(key, this.now());
          recordInputs();
        });
        this.emit({ kind: "vertex", id, name, status: "cached" });
        return { key, layer: hitLayer, created: hit.created, cached: true };
      }
      this.explainMiss(id, explain, inputs);
      const action = d.action;
      const ws = await workspace();
      if (action.kind === "run") await this.runStep(id, action, ws);
      else if (action.kind === "workdir") await this.workdirStep(action, ws);
      else if (copyPlan) await applyCopy(copyPlan, ws.rootfs, this.signal);
      const changed = await ws.finish((c) => this.deps.store.snapshots.fsPath(c));
      const created = new Date(this.now()).toISOString();
      let layer: IngestedLayer | undefined;
      const last = layers[layers.length - 1];
      if (changed) {
        layer = await this.deps.store.ingestLayer(ws.layerStream(this.signal), {
          ...(last ? { parentChainId: last.chainId } : {}),
          lease: this.lease,
          signal: this.signal,
        });
      }
      const at = this.now();
      const recorded = layer;
      this.deps.store.db.write(() => {
        if (recorded) {
          this.deps.store.meta.putSnapshot({
            chainId: recorded.chainId,
            parent: last?.chainId ?? "",
            diffId: recorded.diffId,
            size: recorded.size,
            tarSize: recorded.tarSize,
            createdAt: at,
          });
          this.deps.store.meta.putLayerBlob({
            diffId: recorded.diffId,
            blobDigest: recorded.blobDigest,
            mediaType: recorded.mediaType,
            blobSize: recorded.blobSize,
          });
        }
        this.deps.cache.put({
          key,
          parentKey,
          description: name,
          created,
          diffId: recorded?.diffId ?? "",
          chainId: recorded?.chainId ?? "",
          size: recorded?.size ?? 0,
          createdAt: at,
          lastUsed: at,
        });
        recordInputs();
      });
      this.emit({ kind: "vertex", id, name, status: "done", durationMs: this.now() - start });
      return { key, layer, created, cached: false };
    } catch (err) {
      // A step stopped because another failed (or the build was aborted) is CANCELED, as BuildKit.
      if (this.signal.aborted) {
        this.emit({ kind: "vertex", id, name, status: "canceled", durationMs: this.now() - start });
        throw isBerthError(err) ? err : canceled("build canceled", err);
      }
      this.emitError(id, name, start, err);
      throw err;
    } finally {
      await source?.close();
      await opened?.close();
      await Promise.all((copyPlanOf?.temporary ?? []).map((t) => rm(t, { force: true })));
    }
  }

  /**
   * Says under a step that is about to run why the cache did not serve it, when an earlier build
   * of the same place was recorded (every step with --explain-cache; none with BERTH_HINTS=0). A line of progress only: it
   * never changes the build's result, its stdout or its exit code.
   */
  private explainMiss(id: number, place: StepPlace, inputs: StepInputs): void {
    const mode = this.opts.CacheExplanations ?? "changed";
    if (mode === "none") return;
    const text = this.deps.cache.stepInputs(place.slot);
    const prev = text === undefined ? undefined : parseStepInputs(text);
    if (!prev && mode !== "all") return;
    const reason = explainMiss(prev, inputs, {
      noCache: this.opts.NoCache === true,
      ranBefore: place.ranBefore,
    });
    this.log(id, `cache miss: ${reason ?? "no earlier build of this step in this store"}`);
  }

  /** Where a COPY reads from: the context, a built stage, or an image (mounted read-only use). */
  private async copySource(
    from: string | undefined,
    stage: Stage,
  ): Promise<{ root: SourceRoot; close: () => Promise<void> }> {
    if (from === undefined) {
      return {
        root: { dir: this.ctx.dir, context: true, ignore: this.ctx.ignore },
        close: async () => undefined,
      };
    }
    let layers: readonly IngestedLayer[];
    const byName = this.plan.stages.find((s) => s.name === from.toLowerCase() && s.index < stage.index);
    const byIndex = /^\d+$/.test(from) ? this.plan.stages[Number(from)] : undefined;
    const src = byName ?? byIndex;
    if (src) layers = (await this.startStage(src.index)).layers;
    else {
      const base = this.bases.get(from);
      if (!base) throw invalidArgument(`COPY --from=${from}: no such stage or image`);
      layers = base.layers;
    }
    const ws = await Workspace.open(
      this.deps.driver,
      layers.map((l) => l.chainId),
    );
    return { root: { dir: ws.rootfs, context: false }, close: () => ws.close() };
  }

  private async userOf(rootfs: string, user: string) {
    const [passwd, group] = await Promise.all([
      readFileInRoot(rootfs, "/etc/passwd"),
      readFileInRoot(rootfs, "/etc/group"),
    ]);
    return resolveUser(user, {
      ...(passwd !== undefined ? { passwd } : {}),
      ...(group !== undefined ? { group } : {}),
    });
  }

  private async workdirStep(step: WorkdirStep, ws: Workspace): Promise<void> {
    const host = await resolveInRoot(ws.rootfs, step.path);
    await mkdir(host, { recursive: true, mode: 0o755 });
    if (step.user) {
      const u = await this.userOf(ws.rootfs, step.user);
      const { lchown } = await import("node:fs/promises");
      await lchown(host, u.uid, u.gid);
    }
  }

  private async runStep(vertex: number, step: RunStep, ws: Workspace): Promise<void> {
    const cwd = await resolveInRoot(ws.rootfs, step.workdir);
    await mkdir(cwd, { recursive: true, mode: 0o755 });
    const user = await this.userOf(ws.rootfs, step.user);
    const env = [...step.env];
    if (!env.some((e) => e.startsWith("PATH="))) env.unshift(`PATH=${DEFAULT_PATH}`);
    const mounts: UserMount[] = [];
    for (const [i, target] of step.cacheMounts.entries()) {
      const dir = join(this.deps.cacheMountsDir, sha(step.cacheIds[i] ?? target).slice(7, 39));
      await mkdir(dir, { recursive: true, mode: 0o755 });
      mounts.push({ type: "bind", source: dir, destination: target });
    }
    // RUN --network wins; otherwise the build's --network; otherwise the default.
    const mode = step.network !== "default" ? step.network : (this.opts.NetworkMode ?? "default");
    const config: ContainerConfig = {
      Hostname: "buildkitsandbox",
      Cmd: [...step.argv],
      Env: env,
      WorkingDir: step.workdir,
      User: step.user,
    };
    const hostConfig: HostConfig = { NetworkMode: mode === "host" ? "host" : "none" };
    // /etc/resolv.conf and /etc/hosts as BuildKit gives RUN steps: the host's resolvers (those
    // reachable from the step's own namespace unless it runs on the host network) and
    // `localhost buildkitsandbox`. Bind-mounted from the bundle directory, so never in the layer.
    const hostResolv = (await readTextIfExists("/etc/resolv.conf")) ?? "";
    // The step's bundle lives as long as the step: its files are replaced, never made durable.
    const networkFiles = { resolvConf: join(ws.bundle, "resolv.conf"), hosts: join(ws.bundle, "hosts") };
    await writeFileReplace(
      networkFiles.resolvConf,
      mode === "host"
        ? hostResolv.endsWith("\n") || hostResolv === ""
          ? hostResolv
          : `${hostResolv}\n`
        : resolvConf({ host: hostResolv, dns: [], dnsSearch: [], dnsOptions: [] }),
      0o644,
    );
    await writeFileReplace(networkFiles.hosts, BUILD_HOSTS, 0o644);
    // The default network is the default bridge (a build sandbox of the network service).
    const sandboxId = mode === "default" && this.deps.sandbox ? randomBytes(32).toString("hex") : undefined;
    let code: number;
    try {
      const netns = sandboxId ? (await this.deps.sandbox?.attach(sandboxId))?.netnsPath : undefined;
      const spec = buildRuntimeSpec({
        config,
        hostConfig,
        user,
        rootfs: ws.rootfs,
        mounts,
        networkFiles,
        network: mode === "host" ? { kind: "host" } : netns ? { kind: "path", path: netns } : { kind: "new" },
        cgroupsPath: `/berth/${ws.runcId}`,
        host: await this.deps.hostFacts(),
      });
      await writeFileReplace(join(ws.bundle, "config.json"), serializeRuntimeSpec(spec), 0o600);
      code = await this.deps.driver.runc.runForeground(ws.runcId, {
        bundle: ws.bundle,
        onStdout: (c) => this.emit({ kind: "log", id: vertex, stream: 1, data: c }),
        onStderr: (c) => this.emit({ kind: "log", id: vertex, stream: 2, data: c }),
        signal: this.signal,
      });
    } finally {
      const sandbox = this.deps.sandbox;
      if (sandboxId && sandbox)
        await bestEffort(`detaching build sandbox ${sandboxId}`, sandbox.detach(sandboxId));
    }
    this.signal.throwIfAborted();
    if (code !== 0) throw new RunFailedError(step.argv, code);
  }

  private async export(result: StageResult): Promise<void> {
    const tags = (this.opts.Tags ?? []).map((t) => parseTarget(t));
    await this.vertex("exporting to image", async (id) => {
      this.log(id, "exporting layers done");
      const labels = { ...(result.state.config.Labels ?? {}), ...(this.opts.Labels ?? {}) };
      const config = {
        ...result.state.config,
        ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
      };
      const last = result.history[result.history.length - 1];
      const imageConfig: ImageConfig = {
        architecture: result.platform.architecture,
        ...(result.state.author ? { author: result.state.author } : {}),
        config,
        ...(last?.created ? { created: last.created } : {}),
        history: result.history,
        os: result.platform.os,
        rootfs: { type: "layers", diff_ids: result.layers.map((l) => l.diffId) },
        ...(result.platform.variant ? { variant: result.platform.variant } : {}),
      };
      const created = await this.deps.store.createImage({
        config: imageConfig,
        layers: result.layers,
        tags,
        lease: this.lease,
      });
      this.log(id, `writing image ${created.id} done`);
      for (const t of tags) {
        this.log(id, `naming to ${referenceString(t)} done`);
        this.deps.store.emitImageEvent("tag", created.id, familiarString(t), created.id);
      }
      this.emit({ kind: "result", imageId: created.id, tags: tags.map((t) => familiarString(t)) });
    });
  }
}

/** A RUN step's process exited non-zero (BuildKit's wording); the exit code is data. */
export class RunFailedError extends BerthError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
  ) {
    super(
      "CommandFailed",
      `process "${argv.join(" ")}" did not complete successfully: exit code: ${exitCode}`,
    );
    this.name = "RunFailedError";
  }
}

/** A layer step's place in the build and what it sees, for the cache-miss explanation. */
interface StepPlace {
  /** The step's place: build identity, stage, step number. */
  readonly slot: string;
  readonly base: string;
  readonly args: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
  /** The last step of this stage before this one that ran (was not cached). */
  readonly ranBefore: string | undefined;
}

/** Marker used to end a vertex without an error event (reserved). */
class CachedStep extends Error {}
