/**
 * The Engine contract over the Docker Engine API: every method is one or a few requests to a
 * `berth serve` (or any engine that speaks the API the way berth serve does), and the answers
 * come back in the contract's types. What the local engine does in process — a start with its
 * output attached, an exec session, a build from a directory — becomes the API's protocol:
 * attach (hijacked) before start, exec create + start (hijacked) + inspect, a tar upload.
 *
 * Lifecycle: `openRemoteEngine()` checks the server answers (`/_ping`) → methods → `close()`.
 * It holds no state of the engine's: every answer comes from the server, and it never touches a
 * local store.
 */
import { resolve } from "node:path";
import { BerthError, canceled, isBerthError, notImplemented, unavailable } from "../base/errors.js";
import { BUILD_EVENTS_PARAM, decodeBuildEvent } from "../engine/build-events.js";
import type { Engine } from "../engine/engine.js";
import type {
  AttachHandlers,
  AttachSession,
  AuthConfig,
  AuthResponse,
  BuildCachePruneOptions,
  BuildCachePruneReport,
  BuildContextSource,
  BuildEvent,
  ByteSource,
  ContainerArchive,
  ContainerArchivePutOptions,
  ContainerChange,
  ContainerCommitOptions,
  ContainerCommitResponse,
  ContainerCreateOptions,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerExecOptions,
  ContainerInspect,
  ContainerListOptions,
  ContainerLogsOptions,
  ContainerPathStat,
  ContainerPortsUpdate,
  ContainerRemoveOptions,
  ContainerStartOptions,
  ContainerStatsResponse,
  ContainerStopOptions,
  ContainerSummary,
  ContainersPruneResponse,
  ContainerTopResponse,
  ContainerUpdateRequest,
  ContainerUpdateResponse,
  ContainerWaitResponse,
  DiskUsage,
  DistributionInspect,
  EventMessage,
  EventsOptions,
  ExecConfig,
  ExecInspect,
  ExecSession,
  Filters,
  HistoryResponseItem,
  ImageAnalysis,
  ImageBuildOptions,
  ImageDeleteResponseItem,
  ImageImportOptions,
  ImageImportResult,
  ImageInspect,
  ImageListOptions,
  ImageLoadOptions,
  ImageLoadResult,
  ImagePruneOptions,
  ImagePullOptions,
  ImagePushOptions,
  ImageRemoveOptions,
  ImageSaveOptions,
  ImageSummary,
  ImagesPruneResponse,
  LogEntry,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkCreateResponse,
  NetworkDisconnectRequest,
  NetworkInspect,
  NetworkListOptions,
  NetworksPruneResponse,
  ProgressEvent,
  StartupReport,
  SystemInfo,
  SystemVersion,
  Volume,
  VolumeCreateRequest,
  VolumeListOptions,
  VolumeListResponse,
  VolumePruneOptions,
  VolumeRemoveOptions,
  VolumesPruneResponse,
} from "../engine/types.js";
import { familiarString, parseNormalizedNamed, trimReference } from "../oci/reference.js";
import { contextUpload } from "./context.js";
import { expect, expectList, isObject, isStringList, shape } from "./decode.js";
import { Demuxer, jsonLines, splitTimestamp, streamError, withoutTarEntries } from "./streams.js";
import { type Hijacked, type HostTarget, pathOf, type Query, Transport } from "./transport.js";

const isImageSummary = shape<ImageSummary>({ Id: "string", RepoTags: "array?", Created: "number" });
const isImageInspect = shape<ImageInspect>({ Id: "string", Config: "object", RootFS: "object" });
const isImageAnalysis = shape<ImageAnalysis>({ Id: "string", Size: "number", Layers: "array" });
const isHistory = shape<HistoryResponseItem>({ Id: "string", Created: "number", CreatedBy: "string" });
const isDeleteItem = shape<ImageDeleteResponseItem>({});
const isImagesPrune = shape<ImagesPruneResponse>({ ImagesDeleted: "array?", SpaceReclaimed: "number" });
const isCreateResponse = shape<ContainerCreateResponse>({ Id: "string" });
const isContainerSummary = shape<ContainerSummary>({ Id: "string", Names: "array", State: "string" });
const isContainerInspect = shape<ContainerInspect>({
  Id: "string",
  Name: "string",
  State: "object",
  Config: "object",
  HostConfig: "object",
  NetworkSettings: "object",
});
const isWait = shape<ContainerWaitResponse>({ StatusCode: "number" });
const isUpdate = shape<ContainerUpdateResponse>({ Warnings: "array?" });
const isContainersPrune = shape<ContainersPruneResponse>({
  ContainersDeleted: "array?",
  SpaceReclaimed: "number",
});
const isTop = shape<ContainerTopResponse>({ Titles: "array", Processes: "array?" });
const isStats = shape<ContainerStatsResponse>({
  read: "string",
  cpu_stats: "object",
  memory_stats: "object",
});
const isChange = shape<ContainerChange>({ Kind: "number", Path: "string" });
const isCommit = shape<ContainerCommitResponse>({ Id: "string" });
const isPathStat = shape<ContainerPathStat>({
  name: "string",
  size: "number",
  mode: "number",
  mtime: "string",
});
const isExecInspect = shape<ExecInspect>({ ID: "string", ContainerID: "string", Running: "boolean" });
const isVolume = shape<Volume>({ Name: "string", Driver: "string", Mountpoint: "string" });
const isVolumesPrune = shape<VolumesPruneResponse>({ VolumesDeleted: "array?", SpaceReclaimed: "number" });
const isNetwork = shape<NetworkInspect>({ Name: "string", Id: "string", Driver: "string" });
const isNetworkCreate = shape<NetworkCreateResponse>({ Id: "string" });
const isNetworksPrune = shape<NetworksPruneResponse>({ NetworksDeleted: "array?" });
const isDistribution = shape<DistributionInspect>({ Descriptor: "object", Platforms: "array?" });
const isAuthResponse = shape<AuthResponse>({ Status: "string" });
const isBuildPrune = shape<BuildCachePruneReport>({ CachesDeleted: "array?", SpaceReclaimed: "number" });
const isDiskUsage = shape<DiskUsage>({ LayersSize: "number" });
const isInfo = shape<SystemInfo>({ ID: "string", Containers: "number", Images: "number" });
const isVersion = shape<SystemVersion>({ Version: "string", ApiVersion: "string", Components: "array" });
const isEvent = shape<EventMessage>({ Type: "string", Action: "string", Actor: "object", time: "number" });
const isProgress = shape<ProgressEvent>({});

function filtersQuery(filters: Filters | undefined): string | undefined {
  return filters && Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined;
}

/** X-Registry-Auth: base64url JSON, as the docker CLI encodes it. */
function authHeader(auth: AuthConfig | undefined): Record<string, string> {
  return auth ? { "X-Registry-Auth": Buffer.from(JSON.stringify(auth)).toString("base64url") } : {};
}

/** `since`/`until` as the API takes them: Unix seconds with up to nine fraction digits. */
function unixTime(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  const whole = Math.floor(seconds);
  const frac = Math.round((seconds - whole) * 1e9);
  return frac > 0 ? `${whole}.${String(frac).padStart(9, "0")}` : String(whole);
}

/** An attached stream (attach, exec start) as the contract's session. */
class RemoteAttachSession implements AttachSession {
  protected readonly h: Hijacked;
  /** Resolves when the output ended (the process exited, or the connection went). */
  readonly ended: Promise<void>;

  constructor(
    h: Hijacked,
    handlers: AttachHandlers,
    private readonly resizer: (height: number, width: number) => Promise<void>,
  ) {
    this.h = h;
    const socket = h.socket;
    socket.setNoDelay(true);
    const deliver = (stream: number, data: Buffer) => {
      if (data.length === 0) return;
      if (stream === 2) handlers.onStderr(data);
      else handlers.onStdout(data);
    };
    const demux = h.multiplexed ? new Demuxer(deliver) : undefined;
    const feed = (chunk: Buffer) => {
      if (demux) demux.push(chunk);
      else deliver(1, chunk);
    };
    this.ended = new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        resolve();
        handlers.onEnd();
      };
      socket.on("data", feed);
      socket.once("end", finish);
      socket.once("close", finish);
      socket.on("error", () => finish());
    });
    if (h.head.length > 0) feed(h.head);
  }

  writeStdin(data: Uint8Array): Promise<void> {
    const socket = this.h.socket;
    if (socket.destroyed || socket.writableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      socket.write(data, () => resolve());
    });
  }

  endStdin(): void {
    const socket = this.h.socket;
    if (!socket.destroyed && !socket.writableEnded) socket.end();
  }

  resize(height: number, width: number): Promise<void> {
    return this.resizer(height, width);
  }

  detach(): void {
    this.h.socket.destroy();
  }
}

class RemoteExecSession extends RemoteAttachSession implements ExecSession {
  constructor(
    readonly id: string,
    h: Hijacked,
    handlers: AttachHandlers,
    resizer: (height: number, width: number) => Promise<void>,
    private readonly inspect: () => Promise<ExecInspect>,
  ) {
    super(h, handlers, resizer);
  }

  async wait(): Promise<ExecInspect> {
    await this.ended;
    return this.inspect();
  }
}

/** Turns the classic builder's JSON lines into the contract's build events. */
class LegacyBuildReader {
  private vertex = 0;
  private current: number | undefined;
  private imageId: string | undefined;
  private readonly tags: string[] = [];

  *line(value: unknown): Iterable<BuildEvent> {
    if (!isObject(value)) return;
    const aux = value.aux;
    if (isObject(aux) && typeof aux.ID === "string") {
      this.imageId = aux.ID;
      return;
    }
    const text = value.stream;
    if (typeof text !== "string") return;
    const step = /^(?:\[([^\]]+)\] )?Step (\d+)\/(\d+) : ([\s\S]*?)\n?$/.exec(text);
    if (step) {
      yield* this.closeCurrent();
      this.vertex++;
      this.current = this.vertex;
      const stage = step[1] ? `${step[1]} ` : "";
      yield {
        kind: "vertex",
        id: this.vertex,
        name: `[${stage}${step[2]}/${step[3]}] ${step[4]}`,
        status: "started",
      };
      return;
    }
    if (/^ ---> Using cache\n?$/.test(text) && this.current !== undefined) {
      yield { kind: "vertex", id: this.current, name: "", status: "cached" };
      this.current = undefined;
      return;
    }
    const built = /^Successfully built ([0-9a-f]+)\n?$/.exec(text);
    if (built) {
      yield* this.closeCurrent();
      return;
    }
    const tagged = /^Successfully tagged (.+)\n?$/.exec(text);
    if (tagged?.[1]) {
      this.tags.push(tagged[1]);
      return;
    }
    if (/^sha256:[0-9a-f]{64}\n$/.test(text) && this.imageId === undefined) {
      // `q`: the image ID alone.
      this.imageId = text.trim();
      return;
    }
    yield { kind: "log", id: this.current ?? 0, stream: 1, data: Buffer.from(text) };
  }

  private *closeCurrent(): Iterable<BuildEvent> {
    if (this.current !== undefined) yield { kind: "vertex", id: this.current, name: "", status: "done" };
    this.current = undefined;
  }

  *end(): Iterable<BuildEvent> {
    yield* this.closeCurrent();
    if (this.imageId) yield { kind: "result", imageId: this.imageId, tags: this.tags };
  }

  *fail(): Iterable<BuildEvent> {
    if (this.current !== undefined) yield { kind: "vertex", id: this.current, name: "", status: "error" };
    this.current = undefined;
  }
}

export interface RemoteEngineOptions {
  readonly target: HostTarget;
}

export class RemoteEngine implements Engine {
  private readonly t: Transport;
  /** When this client started each container (Unix seconds), to find a removed one's exit. */
  private readonly startedAt = new Map<string, number>();

  constructor(opts: RemoteEngineOptions) {
    this.t = new Transport(opts.target);
  }

  async close(): Promise<void> {
    this.t.close();
  }

  apiVersion(): Promise<string> {
    return this.t.apiVersion();
  }

  /** Fails unless the server answers /_ping. */
  async ping(): Promise<void> {
    await this.t.call({ method: "GET", path: "/_ping" });
  }

  // -------------------------------------------------------------------------------------------
  // Images

  async imageList(opts: ImageListOptions = {}): Promise<ImageSummary[]> {
    const v = await this.t.json({
      method: "GET",
      path: "/images/json",
      query: {
        all: opts.all,
        digests: opts.digests,
        "shared-size": opts.sharedSize,
        filters: filtersQuery(opts.filters),
      },
    });
    return expectList(v, isImageSummary, "image list");
  }

  async imageInspect(name: string): Promise<ImageInspect> {
    return expect(
      await this.t.json({ method: "GET", path: pathOf`/images/${name}/json` }),
      isImageInspect,
      "image inspect",
    );
  }

  async imageHistory(name: string): Promise<HistoryResponseItem[]> {
    return expectList(
      await this.t.json({ method: "GET", path: pathOf`/images/${name}/history` }),
      isHistory,
      "image history",
    );
  }

  async imageAnalyze(name: string, opts: { readonly signal?: AbortSignal } = {}): Promise<ImageAnalysis> {
    const v = await this.t.json({
      method: "GET",
      path: pathOf`/images/${name}/analyze`,
      signal: opts.signal,
    });
    return expect(v, isImageAnalysis, "image analyze");
  }

  async imageTag(source: string, target: string): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/images/${source}/tag`, query: { repo: target } });
  }

  async imageRemove(name: string, opts: ImageRemoveOptions = {}): Promise<ImageDeleteResponseItem[]> {
    const v = await this.t.json({
      method: "DELETE",
      path: pathOf`/images/${name}`,
      query: { force: opts.force, noprune: opts.noprune },
    });
    return expectList(v, isDeleteItem, "image remove");
  }

  /** The prune verbs' request: POST `path` with the filters, the answer checked by `guard`. */
  private async prune<T>(
    path: string,
    filters: Filters | undefined,
    guard: (v: unknown) => v is T,
    what: string,
  ): Promise<T> {
    return expect(
      await this.t.json({ method: "POST", path, query: { filters: filtersQuery(filters) } }),
      guard,
      what,
    );
  }

  async imagePrune(opts: ImagePruneOptions = {}): Promise<ImagesPruneResponse> {
    const v = await this.prune("/images/prune", opts.filters, isImagesPrune, "image prune");
    return { ...v, ImagesDeleted: v.ImagesDeleted ?? [] };
  }

  async imageImport(source: ByteSource, opts: ImageImportOptions = {}): Promise<ImageImportResult> {
    const res = await this.t.request({
      method: "POST",
      path: "/images/create",
      query: {
        fromSrc: "-",
        repo: opts.reference,
        changes: opts.changes,
        message: opts.message,
        platform: opts.platform,
      },
      body: source,
      signal: opts.signal,
    });
    let id: string | undefined;
    for await (const m of jsonLines(res)) {
      const err = streamError(m, "InvalidArgument");
      if (err) throw err;
      if (isObject(m) && typeof m.status === "string") id = m.status;
    }
    if (!id) throw unavailable("the engine did not say which image it imported");
    return { id };
  }

  async imageSave(names: readonly string[], opts: ImageSaveOptions = {}): Promise<ByteSource> {
    const res = await this.t.request({
      method: "GET",
      path: "/images/get",
      query: { names, platform: opts.platform },
      signal: opts.signal,
    });
    // The API's archive is a docker-archive that is also an OCI layout: without Docker's
    // manifest.json and repositories it is the OCI archive alone.
    return opts.format === "oci-archive"
      ? withoutTarEntries(res, new Set(["manifest.json", "repositories"]))
      : res;
  }

  async imageLoad(source: ByteSource, opts: ImageLoadOptions = {}): Promise<ImageLoadResult> {
    const res = await this.t.request({
      method: "POST",
      path: "/images/load",
      query: { quiet: opts.quiet, platform: opts.platform },
      body: source,
      signal: opts.signal,
    });
    const loaded: Array<{ reference?: string; id: string }> = [];
    const replaced: Array<{ reference: string; previous: string }> = [];
    for await (const m of jsonLines(res)) {
      const err = streamError(m, "InvalidArgument");
      if (err) throw err;
      if (!isObject(m)) continue;
      const text = m.stream;
      if (typeof text !== "string") {
        if (opts.onProgress) opts.onProgress(expect(m, isProgress, "image load"));
        continue;
      }
      // The lines dockerd writes after a load (the contract's result, one line per image).
      const byId = /^Loaded image ID: (\S+)\n?$/.exec(text);
      const byRef = /^Loaded image: (\S+)\n?$/.exec(text);
      const renamed =
        /^The image (\S+) already exists, renaming the old one with ID (\S+) to empty string\n?$/.exec(text);
      if (byId?.[1]) loaded.push({ id: byId[1] });
      else if (byRef?.[1]) loaded.push({ reference: byRef[1], id: "" });
      else if (renamed?.[1] && renamed[2]) replaced.push({ reference: renamed[1], previous: renamed[2] });
    }
    for (const l of loaded) {
      if (l.reference) l.id = (await this.imageInspect(l.reference)).Id;
    }
    return { loaded, ...(replaced.length > 0 ? { replaced } : {}) };
  }

  // -------------------------------------------------------------------------------------------
  // Containers

  async containerCreate(
    req: ContainerCreateRequest,
    opts: ContainerCreateOptions = {},
  ): Promise<ContainerCreateResponse> {
    const v = await this.t.json({
      method: "POST",
      path: "/containers/create",
      query: { name: opts.name, platform: opts.platform },
      json: req,
    });
    const out = expect(v, isCreateResponse, "container create");
    return { Id: out.Id, Warnings: out.Warnings ?? [] };
  }

  /** Attaches to a container's streams (hijacked); with `stream`, waits for its start if it has not begun. */
  private async attach(id: string, handlers: AttachHandlers, query: Query): Promise<RemoteAttachSession> {
    const h = await this.t.hijack({ method: "POST", path: pathOf`/containers/${id}/attach`, query });
    return new RemoteAttachSession(h, handlers, (height, width) => this.resizeContainer(id, height, width));
  }

  private async resizeContainer(id: string, height: number, width: number): Promise<void> {
    await this.t.call({
      method: "POST",
      path: pathOf`/containers/${id}/resize`,
      query: { h: height, w: width },
    });
  }

  async containerStart(id: string, opts: ContainerStartOptions = {}): Promise<AttachSession | undefined> {
    this.startedAt.set(id, Date.now() / 1000 - 1);
    if (!opts.attach) {
      await this.t.call({ method: "POST", path: pathOf`/containers/${id}/start` });
      return undefined;
    }
    // As the docker CLI: attach first (the server holds the attach until the start), then start,
    // so the output is seen from its first byte.
    const session = await this.attach(id, opts.attach, {
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
    });
    try {
      await this.t.call({ method: "POST", path: pathOf`/containers/${id}/start` });
    } catch (err) {
      session.detach();
      throw err;
    }
    return session;
  }

  async containerStop(id: string, opts: ContainerStopOptions = {}): Promise<void> {
    await this.t.call({
      method: "POST",
      path: pathOf`/containers/${id}/stop`,
      query: { t: opts.timeout, signal: opts.signal },
    });
  }

  async containerRestart(id: string, opts: ContainerStopOptions = {}): Promise<void> {
    await this.t.call({
      method: "POST",
      path: pathOf`/containers/${id}/restart`,
      query: { t: opts.timeout, signal: opts.signal },
    });
  }

  async containerKill(id: string, signal?: string): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/containers/${id}/kill`, query: { signal } });
  }

  async containerRemove(id: string, opts: ContainerRemoveOptions = {}): Promise<void> {
    await this.t.call({
      method: "DELETE",
      path: pathOf`/containers/${id}`,
      query: { force: opts.force, v: opts.volumes },
    });
  }

  async containerList(opts: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    const v = await this.t.json({
      method: "GET",
      path: "/containers/json",
      query: { all: opts.all, size: opts.size, limit: opts.limit, filters: filtersQuery(opts.filters) },
    });
    return expectList(v, isContainerSummary, "container list");
  }

  async containerInspect(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    const v = await this.t.json({
      method: "GET",
      path: pathOf`/containers/${id}/json`,
      query: { size: opts.size },
    });
    return expect(v, isContainerInspect, "container inspect");
  }

  async containerWait(id: string, opts: { signal?: AbortSignal } = {}): Promise<ContainerWaitResponse> {
    try {
      const v = await this.t.json({
        method: "POST",
        path: pathOf`/containers/${id}/wait`,
        query: { condition: "not-running" },
        signal: opts.signal,
      });
      const w = expect(v, isWait, "container wait");
      return w.Error?.Message ? w : { StatusCode: w.StatusCode };
    } catch (err) {
      if (!isBerthError(err, "NotFound")) throw err;
      // Removed already (`--rm`, between its exit and this call): its exit is in its die event.
      const code = await this.lastExitCode(id);
      if (code === undefined) throw err;
      return { StatusCode: code };
    }
  }

  private async lastExitCode(id: string): Promise<number | undefined> {
    let code: number | undefined;
    const since = this.startedAt.get(id) ?? 0;
    for await (const e of this.events({
      since,
      until: Date.now() / 1000,
      filters: { container: [id], event: ["die"] },
    })) {
      const text = e.Actor.Attributes?.exitCode;
      if (text !== undefined && /^-?\d+$/.test(text)) code = Number(text);
    }
    return code;
  }

  async *containerLogs(id: string, opts: ContainerLogsOptions = {}): AsyncIterable<LogEntry> {
    let res: Awaited<ReturnType<Transport["request"]>>;
    try {
      res = await this.t.request({
        method: "GET",
        path: pathOf`/containers/${id}/logs`,
        query: {
          follow: opts.follow,
          stdout: opts.stdout ?? true,
          stderr: opts.stderr ?? true,
          since: unixTime(opts.since),
          until: unixTime(opts.until),
          tail: opts.tail === undefined ? "all" : String(opts.tail),
          timestamps: true,
        },
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    const multiplexed = String(res.headers["content-type"] ?? "").includes("multiplexed");
    let buf: Buffer = Buffer.alloc(0);
    try {
      for await (const c of res) {
        const chunk: Buffer = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
        if (multiplexed) {
          buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
          while (buf.length >= 8) {
            const size = buf.readUInt32BE(4);
            if (buf.length < 8 + size) break;
            const stream = buf[0] === 2 ? "stderr" : "stdout";
            const { time, data } = splitTimestamp(Buffer.from(buf.subarray(8, 8 + size)));
            buf = buf.subarray(8 + size);
            yield { stream, time, data };
          }
        } else {
          // A TTY's log is one stream: records are lines, each with its time in front.
          let start = 0;
          while (start < chunk.length) {
            const nl = chunk.indexOf(10, start);
            const end = nl < 0 ? chunk.length : nl + 1;
            const { time, data } = splitTimestamp(chunk.subarray(start, end));
            yield { stream: "stdout", time, data: Buffer.from(data) };
            start = end;
          }
        }
      }
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
  }

  async containerPause(id: string): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/containers/${id}/pause` });
  }

  async containerUnpause(id: string): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/containers/${id}/unpause` });
  }

  async containerRename(id: string, name: string): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/containers/${id}/rename`, query: { name } });
  }

  async containerUpdate(id: string, req: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    const v = expect(
      await this.t.json({ method: "POST", path: pathOf`/containers/${id}/update`, json: req }),
      isUpdate,
      "container update",
    );
    return { Warnings: v.Warnings ?? [] };
  }

  async containerUpdatePorts(id: string, req: ContainerPortsUpdate): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/containers/${id}/ports`, json: req });
  }

  async containerPrune(opts: { filters?: Filters } = {}): Promise<ContainersPruneResponse> {
    const v = await this.prune("/containers/prune", opts.filters, isContainersPrune, "container prune");
    return { ...v, ContainersDeleted: v.ContainersDeleted ?? [] };
  }

  async containerAttach(id: string, handlers: AttachHandlers): Promise<AttachSession> {
    return this.attach(id, handlers, { stream: true, stdin: true, stdout: true, stderr: true });
  }

  async containerTop(id: string, psArgs?: readonly string[]): Promise<ContainerTopResponse> {
    const v = await this.t.json({
      method: "GET",
      path: pathOf`/containers/${id}/top`,
      query: { ps_args: psArgs && psArgs.length > 0 ? psArgs.join(" ") : undefined },
    });
    const top = expect(v, isTop, "container top");
    return { Titles: top.Titles, Processes: top.Processes ?? [] };
  }

  async containerStats(id: string): Promise<ContainerStatsResponse> {
    const v = await this.t.json({
      method: "GET",
      path: pathOf`/containers/${id}/stats`,
      query: { stream: false },
    });
    return expect(v, isStats, "container stats");
  }

  async *containerStatsStream(
    id: string,
    opts: { signal?: AbortSignal } = {},
  ): AsyncIterable<ContainerStatsResponse> {
    try {
      const res = await this.t.request({
        method: "GET",
        path: pathOf`/containers/${id}/stats`,
        query: { stream: true },
        signal: opts.signal,
      });
      for await (const v of jsonLines(res)) {
        const err = streamError(v, "Unavailable");
        if (err) throw err;
        yield expect(v, isStats, "container stats");
      }
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
  }

  async containerExec(
    id: string,
    config: ExecConfig,
    opts: ContainerExecOptions = {},
  ): Promise<ExecSession | undefined> {
    const { Detach, ...create } = config;
    const created = expect(
      await this.t.json({
        method: "POST",
        path: pathOf`/containers/${id}/exec`,
        json: create,
        signal: opts.signal,
      }),
      shape<{ Id: string }>({ Id: "string" }),
      "exec create",
    );
    const execId = created.Id;
    const start = {
      Detach: !!Detach,
      Tty: !!config.Tty,
      ...(config.ConsoleSize ? { ConsoleSize: config.ConsoleSize } : {}),
    };
    if (Detach || !opts.attach) {
      await this.t.call({
        method: "POST",
        path: pathOf`/exec/${execId}/start`,
        json: { ...start, Detach: true },
      });
      return undefined;
    }
    // A failure to set the process up comes back as this request's answer, as the local engine
    // reports it (berth serve's AnswerStartErrors; Docker's engines ignore the field).
    const h = await this.t.hijack({
      method: "POST",
      path: pathOf`/exec/${execId}/start`,
      json: { ...start, AnswerStartErrors: true },
    });
    const session = new RemoteExecSession(
      execId,
      h,
      opts.attach,
      async (height, width) => {
        await this.t.call({
          method: "POST",
          path: pathOf`/exec/${execId}/resize`,
          query: { h: height, w: width },
        });
      },
      async () =>
        expect(
          await this.t.json({ method: "GET", path: pathOf`/exec/${execId}/json` }),
          isExecInspect,
          "exec inspect",
        ),
    );
    opts.signal?.addEventListener("abort", () => session.detach(), { once: true });
    return session;
  }

  async containersStartup(): Promise<StartupReport> {
    throw notImplemented(
      "restarting containers at start-up is the engine's own work: run it where berth serve runs",
    );
  }

  async containerCleanup(_id: string): Promise<void> {
    throw notImplemented(
      "container cleanup acts on the local store (conmon's exit command): it cannot run against a remote engine",
    );
  }

  async containerChanges(id: string): Promise<ContainerChange[]> {
    return expectList(
      await this.t.json({ method: "GET", path: pathOf`/containers/${id}/changes` }),
      isChange,
      "container changes",
    );
  }

  async containerCommit(id: string, opts: ContainerCommitOptions = {}): Promise<ContainerCommitResponse> {
    const v = await this.t.json({
      method: "POST",
      path: "/commit",
      query: {
        container: id,
        repo: opts.reference,
        comment: opts.comment,
        author: opts.author,
        changes: opts.changes,
        pause: opts.pause ?? true,
      },
      json: {},
      signal: opts.signal,
    });
    return expect(v, isCommit, "commit");
  }

  async containerExport(id: string, opts: { signal?: AbortSignal } = {}): Promise<ByteSource> {
    return this.t.request({ method: "GET", path: pathOf`/containers/${id}/export`, signal: opts.signal });
  }

  private statHeader(value: unknown, what: string): ContainerPathStat {
    const text = typeof value === "string" ? value : "";
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as unknown;
    } catch {
      throw unavailable(`the engine's answer to ${what} has no valid X-Docker-Container-Path-Stat header`);
    }
    const stat = expect(parsed, isPathStat, what);
    return { ...stat, linkTarget: stat.linkTarget ?? "" };
  }

  async containerStatPath(id: string, path: string): Promise<ContainerPathStat> {
    const spec = { path: pathOf`/containers/${id}/archive`, query: { path } };
    let res: Awaited<ReturnType<Transport["request"]>>;
    try {
      res = await this.t.request({ method: "HEAD", ...spec });
    } catch (err) {
      // A HEAD answer has no body to carry the message: the same GET says what is wrong.
      if (!(err instanceof BerthError) || err.kind === "Unavailable") throw err;
      const get = await this.t.request({ method: "GET", ...spec });
      get.destroy();
      throw err;
    }
    res.resume();
    return this.statHeader(res.headers["x-docker-container-path-stat"], "archive HEAD");
  }

  async containerArchive(
    id: string,
    path: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<ContainerArchive> {
    const res = await this.t.request({
      method: "GET",
      path: pathOf`/containers/${id}/archive`,
      query: { path },
      signal: opts.signal,
    });
    return {
      stat: this.statHeader(res.headers["x-docker-container-path-stat"], "archive GET"),
      content: res,
    };
  }

  async containerExtractArchive(
    id: string,
    path: string,
    source: ByteSource,
    opts: ContainerArchivePutOptions = {},
  ): Promise<void> {
    await this.t.call({
      method: "PUT",
      path: pathOf`/containers/${id}/archive`,
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir, copyUIDGID: opts.copyUIDGID },
      body: source,
      signal: opts.signal,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Volumes

  async volumeCreate(req: VolumeCreateRequest): Promise<Volume> {
    return expect(
      await this.t.json({ method: "POST", path: "/volumes/create", json: req }),
      isVolume,
      "volume create",
    );
  }

  async volumeList(opts: VolumeListOptions = {}): Promise<VolumeListResponse> {
    const v = await this.t.json({
      method: "GET",
      path: "/volumes",
      query: { filters: filtersQuery(opts.filters) },
    });
    const list = expect(
      v,
      shape<{ Volumes: unknown; Warnings?: unknown }>({ Volumes: "array?", Warnings: "array?" }),
      "volume list",
    );
    return {
      Volumes: expectList(list.Volumes, isVolume, "volume list"),
      Warnings: isStringList(list.Warnings) ? list.Warnings : [],
    };
  }

  async volumeInspect(name: string): Promise<Volume> {
    return expect(
      await this.t.json({ method: "GET", path: pathOf`/volumes/${name}` }),
      isVolume,
      "volume inspect",
    );
  }

  async volumeRemove(name: string, opts: VolumeRemoveOptions = {}): Promise<void> {
    await this.t.call({ method: "DELETE", path: pathOf`/volumes/${name}`, query: { force: opts.force } });
  }

  async volumePrune(opts: VolumePruneOptions = {}): Promise<VolumesPruneResponse> {
    const v = await this.prune("/volumes/prune", opts.filters, isVolumesPrune, "volume prune");
    return { ...v, VolumesDeleted: v.VolumesDeleted ?? [] };
  }

  // -------------------------------------------------------------------------------------------
  // Networks

  async networkCreate(req: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    const v = expect(
      await this.t.json({ method: "POST", path: "/networks/create", json: req }),
      isNetworkCreate,
      "network create",
    );
    return { Id: v.Id, Warning: v.Warning ?? "" };
  }

  async networkList(opts: NetworkListOptions = {}): Promise<NetworkInspect[]> {
    const v = await this.t.json({
      method: "GET",
      path: "/networks",
      query: { filters: filtersQuery(opts.filters) },
    });
    return expectList(v, isNetwork, "network list");
  }

  async networkInspect(id: string): Promise<NetworkInspect> {
    return expect(
      await this.t.json({ method: "GET", path: pathOf`/networks/${id}` }),
      isNetwork,
      "network inspect",
    );
  }

  async networkRemove(id: string): Promise<void> {
    await this.t.call({ method: "DELETE", path: pathOf`/networks/${id}` });
  }

  async networkPrune(opts: { filters?: Filters } = {}): Promise<NetworksPruneResponse> {
    const v = await this.prune("/networks/prune", opts.filters, isNetworksPrune, "network prune");
    return { NetworksDeleted: v.NetworksDeleted ?? [] };
  }

  async networkConnect(id: string, req: NetworkConnectRequest): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/networks/${id}/connect`, json: req });
  }

  async networkDisconnect(id: string, req: NetworkDisconnectRequest): Promise<void> {
    await this.t.call({ method: "POST", path: pathOf`/networks/${id}/disconnect`, json: req });
  }

  // -------------------------------------------------------------------------------------------
  // Registries

  /** A progress stream: each line an event; an `error` line ends it by throwing. */
  private async *progress(spec: Parameters<Transport["request"]>[0]): AsyncIterable<ProgressEvent> {
    const res = await this.t.request(spec);
    for await (const m of jsonLines(res)) {
      const err = streamError(m, "FailedPrecondition");
      if (err) throw err;
      yield expect(m, isProgress, `${spec.method} ${spec.path}`);
    }
  }

  imagePull(reference: string, opts: ImagePullOptions = {}): AsyncIterable<ProgressEvent> {
    const ref = parseNormalizedNamed(reference);
    // A name alone pulls every tag (the API's rule): without allTags it names `latest`.
    const explicit = ref.tag === undefined && ref.digest === undefined && !opts.allTags;
    return this.progress({
      method: "POST",
      path: "/images/create",
      query: {
        fromImage: opts.allTags ? familiarString(trimReference(ref)) : reference,
        ...(explicit ? { tag: "latest" } : {}),
        platform: opts.platform,
      },
      headers: authHeader(opts.auth),
      signal: opts.signal,
    });
  }

  imagePush(reference: string, opts: ImagePushOptions = {}): AsyncIterable<ProgressEvent> {
    const ref = parseNormalizedNamed(reference);
    const name = opts.allTags ? familiarString(trimReference(ref)) : reference;
    const explicit = ref.tag === undefined && !opts.allTags;
    return this.progress({
      method: "POST",
      path: pathOf`/images/${name}/push`,
      query: explicit ? { tag: "latest" } : {},
      headers: authHeader(opts.auth),
      signal: opts.signal,
    });
  }

  async distributionInspect(
    reference: string,
    opts: { readonly auth?: AuthConfig; readonly signal?: AbortSignal } = {},
  ): Promise<DistributionInspect> {
    const v = await this.t.json({
      method: "GET",
      path: pathOf`/distribution/${reference}/json`,
      headers: authHeader(opts.auth),
      signal: opts.signal,
    });
    const d = expect(v, isDistribution, "distribution inspect");
    return { ...d, Platforms: d.Platforms ?? [] };
  }

  async registryLogin(auth: AuthConfig): Promise<AuthResponse> {
    return expect(await this.t.json({ method: "POST", path: "/auth", json: auth }), isAuthResponse, "auth");
  }

  // -------------------------------------------------------------------------------------------
  // Build

  async *imageBuild(context: BuildContextSource, opts: ImageBuildOptions = {}): AsyncIterable<BuildEvent> {
    const upload = await contextUpload(context, opts.DockerfileText);
    const res = await this.t.request({
      method: "POST",
      path: "/build",
      query: {
        t: opts.Tags,
        dockerfile: upload.dockerfile ?? opts.Dockerfile,
        buildargs: opts.BuildArgs ? JSON.stringify(opts.BuildArgs) : undefined,
        target: opts.Target,
        nocache: opts.NoCache,
        q: opts.SuppressOutput,
        // berth's own parameter: which steps get a line saying why the cache did or did not serve them.
        explaincache: opts.CacheExplanations,
        // berth's own: the directory the context came from, so the server's cache explanations
        // compare with the previous build of that directory (as a local build does).
        contextkey: opts.ContextKey ?? (context.kind === "directory" ? resolve(context.path) : undefined),
        pull: opts.PullParent,
        labels: opts.Labels ? JSON.stringify(opts.Labels) : undefined,
        networkmode: opts.NetworkMode,
        platform: opts.Platform,
        version: "1",
        // berth's own: the engine's events rather than the classic builder's lines (a server
        // that does not know it sends the classic lines, which LegacyBuildReader reads).
        [BUILD_EVENTS_PARAM]: true,
      },
      headers: opts.RegistryAuth
        ? { "X-Registry-Config": Buffer.from(JSON.stringify(opts.RegistryAuth)).toString("base64url") }
        : {},
      body: upload.body,
      signal: opts.signal,
    });
    const reader = new LegacyBuildReader();
    let events = false;
    for await (const m of jsonLines(res)) {
      const err = streamError(m, "FailedPrecondition");
      if (err) {
        if (!events) yield* reader.fail();
        throw err;
      }
      const event = decodeBuildEvent(m);
      if (event) {
        events = true;
        yield event;
      } else if (!events) yield* reader.line(m);
    }
    if (!events) yield* reader.end();
  }

  async buildPrune(opts: BuildCachePruneOptions = {}): Promise<BuildCachePruneReport> {
    const v = expect(
      await this.t.json({
        method: "POST",
        path: "/build/prune",
        query: { all: opts.All, filters: filtersQuery(opts.Filters) },
      }),
      isBuildPrune,
      "build prune",
    );
    return { ...v, CachesDeleted: v.CachesDeleted ?? [] };
  }

  // -------------------------------------------------------------------------------------------
  // System

  async systemDf(): Promise<DiskUsage> {
    const v = expect(await this.t.json({ method: "GET", path: "/system/df" }), isDiskUsage, "system df");
    return {
      LayersSize: v.LayersSize,
      Images: v.Images ?? [],
      Containers: v.Containers ?? [],
      Volumes: v.Volumes ?? [],
      BuildCache: v.BuildCache ?? [],
    };
  }

  async systemInfo(): Promise<SystemInfo> {
    return expect(await this.t.json({ method: "GET", path: "/info" }), isInfo, "info");
  }

  async systemVersion(): Promise<SystemVersion> {
    return expect(await this.t.json({ method: "GET", path: "/version" }), isVersion, "version");
  }

  async *events(opts: EventsOptions = {}): AsyncIterable<EventMessage> {
    const signal = opts.signal;
    try {
      const res = await this.t.request({
        method: "GET",
        path: "/events",
        query: {
          since: unixTime(opts.since),
          until: unixTime(opts.until),
          filters: filtersQuery(opts.filters),
        },
        signal,
      });
      for await (const m of jsonLines(res)) {
        const err = streamError(m, "InvalidArgument");
        if (err) throw err;
        yield expect(m, isEvent, "events");
      }
    } catch (err) {
      if (signal?.aborted) return;
      if (isBerthError(err, "Canceled")) throw canceled(err.message);
      throw err;
    }
  }
}

/**
 * A remote engine. Nothing is sent until the first call (commands that fail on their flags cost
 * no round trip); a server that is not there fails that call with Unavailable, naming the host.
 */
export function openRemoteEngine(opts: RemoteEngineOptions): Engine {
  return new RemoteEngine(opts);
}
