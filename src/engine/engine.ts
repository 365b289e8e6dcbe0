/**
 * The Engine contract: everything a berth client can ask of an engine, in the Docker Engine
 * API's vocabulary. Two implementations: local/ (in process) and client/ (over the Docker API).
 * Methods never write to stdout; they return data, and byte streams as async iterables.
 */
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
} from "./types.js";

export interface ImageEngine {
  imageList(opts?: ImageListOptions): Promise<ImageSummary[]>;
  imageInspect(name: string): Promise<ImageInspect>;
  imageHistory(name: string): Promise<HistoryResponseItem[]>;
  /**
   * Reads every layer of an image: per layer its instruction, size and changes, the bytes that
   * later layers overwrite, remove or duplicate, and dive's efficiency score (berth's own).
   */
  imageAnalyze(name: string, opts?: { readonly signal?: AbortSignal }): Promise<ImageAnalysis>;
  imageTag(source: string, target: string): Promise<void>;
  imageRemove(name: string, opts?: ImageRemoveOptions): Promise<ImageDeleteResponseItem[]>;
  imagePrune(opts?: ImagePruneOptions): Promise<ImagesPruneResponse>;
  imageImport(source: ByteSource, opts?: ImageImportOptions): Promise<ImageImportResult>;
  /** Resolves every name first (so a missing one fails before any byte), then streams. */
  imageSave(names: readonly string[], opts?: ImageSaveOptions): Promise<ByteSource>;
  imageLoad(source: ByteSource, opts?: ImageLoadOptions): Promise<ImageLoadResult>;
}

export interface ContainerEngine {
  containerCreate(
    req: ContainerCreateRequest,
    opts?: ContainerCreateOptions,
  ): Promise<ContainerCreateResponse>;
  /** Starts a container; with `attach`, returns the attached session (stdin, resize, detach). */
  containerStart(id: string, opts?: ContainerStartOptions): Promise<AttachSession | undefined>;
  containerStop(id: string, opts?: ContainerStopOptions): Promise<void>;
  containerRestart(id: string, opts?: ContainerStopOptions): Promise<void>;
  containerKill(id: string, signal?: string): Promise<void>;
  containerRemove(id: string, opts?: ContainerRemoveOptions): Promise<void>;
  containerList(opts?: ContainerListOptions): Promise<ContainerSummary[]>;
  containerInspect(id: string, opts?: { size?: boolean }): Promise<ContainerInspect>;
  /** Waits for the container to stop and returns its exit code (also after `--rm` removed it). */
  containerWait(id: string, opts?: { signal?: AbortSignal }): Promise<ContainerWaitResponse>;
  /**
   * The container's log records. An engine that can tell at the call that the log cannot be read
   * (no such container, a driver without reading) throws there, before the first record.
   */
  containerLogs(id: string, opts?: ContainerLogsOptions): AsyncIterable<LogEntry>;
  containerPause(id: string): Promise<void>;
  containerUnpause(id: string): Promise<void>;
  containerRename(id: string, name: string): Promise<void>;
  /**
   * POST /containers/{id}/update: new resource limits and restart policy. Recorded (inspect and
   * later starts use them) and, on a running container, applied at once; the warnings are
   * Docker's for limits this host cannot enforce.
   */
  containerUpdate(id: string, req: ContainerUpdateRequest): Promise<ContainerUpdateResponse>;
  /**
   * Adds and removes published ports of a running or stopped container (berth's own): recorded in
   * HostConfig.PortBindings and, on a running container, forwarded or stopped at once. A host
   * port another container holds is refused with Docker's `port is already allocated`.
   */
  containerUpdatePorts(id: string, req: ContainerPortsUpdate): Promise<void>;
  containerPrune(opts?: { filters?: Filters }): Promise<ContainersPruneResponse>;
  /** Attaches to a running container's stdio (`attach`). */
  containerAttach(id: string, handlers: AttachHandlers): Promise<AttachSession>;
  /** The container's processes, as `ps` with `psArgs` (default -ef) prints them. */
  containerTop(id: string, psArgs?: readonly string[]): Promise<ContainerTopResponse>;
  /** One stats reading (CPU over a short interval, memory, PIDs, block and network I/O). */
  containerStats(id: string): Promise<ContainerStatsResponse>;
  /**
   * GET /containers/{id}/stats?stream=true: a reading a second, each against the one before,
   * while the container runs; ends when it stops or `signal` aborts.
   */
  containerStatsStream(id: string, opts?: { signal?: AbortSignal }): AsyncIterable<ContainerStatsResponse>;
  /**
   * Runs a command in a running container (`docker exec`). Resolves once the process runs: with
   * the attached session, or undefined with `Detach`. A command that cannot be invoked rejects
   * with an error carrying `exitCode` 126 or 127, as Docker's exec gives.
   */
  containerExec(
    id: string,
    config: ExecConfig,
    opts?: ContainerExecOptions,
  ): Promise<ExecSession | undefined>;
  /**
   * What `berth serve` runs when it starts: repairs what killed processes left, then starts the
   * containers whose restart policy asks for it (`always`; `unless-stopped` unless a user stopped it).
   */
  containersStartup(): Promise<StartupReport>;
  /** What conmon's exit command runs (`berth container cleanup ID`): record the exit, --rm, restart. */
  containerCleanup(id: string): Promise<void>;
  /**
   * The exit work of a container this caller started with `foreground` (local engines only),
   * once its process exited: what conmon's exit command would do (record the exit, `--rm`),
   * done now, and the exit command, held back meanwhile, cancelled. False when the engine held
   * none back (the exit command does the work).
   */
  containerForegroundExit?(id: string): Promise<boolean>;
  /**
   * Runs the store's healthcheck supervisor in this process (local engines only): `serving`
   * hosts it for as long as `signal` allows (berth serve); otherwise it runs while there are
   * containers to supervise and returns once idle (`berth container health-supervisor`). Returns
   * at once when another process supervises.
   */
  superviseHealth?(o: { readonly signal?: AbortSignal; readonly serving?: boolean }): Promise<void>;
  /**
   * The API version this engine is spoken to with, when it is a remote one: the version
   * negotiated with the server (`version` prints it as the client's, "downgraded from" the
   * newest when the server is older). A local engine has none of its own: the contract's.
   */
  apiVersion?(): Promise<string>;
  /** The writable layer's changes against the image (A/C/D), sorted by path. */
  containerChanges(id: string): Promise<ContainerChange[]>;
  /** The writable layer becomes a new layer on top of the container's image. */
  containerCommit(id: string, opts?: ContainerCommitOptions): Promise<ContainerCommitResponse>;
  /** The container's root filesystem (without volumes) as a tar stream. */
  containerExport(id: string, opts?: { signal?: AbortSignal }): Promise<ByteSource>;
  /** HEAD /containers/{id}/archive: what a path inside the container is. */
  containerStatPath(id: string, path: string): Promise<ContainerPathStat>;
  /** GET /containers/{id}/archive: a path inside the container as a tar rooted at its base name. */
  containerArchive(id: string, path: string, opts?: { signal?: AbortSignal }): Promise<ContainerArchive>;
  /** PUT /containers/{id}/archive: extracts a tar (plain or gzip) into a directory of the container. */
  containerExtractArchive(
    id: string,
    path: string,
    source: ByteSource,
    opts?: ContainerArchivePutOptions,
  ): Promise<void>;
}

export interface VolumeEngine {
  volumeCreate(req: VolumeCreateRequest): Promise<Volume>;
  volumeList(opts?: VolumeListOptions): Promise<VolumeListResponse>;
  volumeInspect(name: string): Promise<Volume>;
  volumeRemove(name: string, opts?: VolumeRemoveOptions): Promise<void>;
  volumePrune(opts?: VolumePruneOptions): Promise<VolumesPruneResponse>;
}

export interface NetworkEngine {
  networkCreate(req: NetworkCreateRequest): Promise<NetworkCreateResponse>;
  networkList(opts?: NetworkListOptions): Promise<NetworkInspect[]>;
  networkInspect(id: string): Promise<NetworkInspect>;
  networkRemove(id: string): Promise<void>;
  networkPrune(opts?: { filters?: Filters }): Promise<NetworksPruneResponse>;
  /** Connects a container (running or not) to a network. */
  networkConnect(id: string, req: NetworkConnectRequest): Promise<void>;
  networkDisconnect(id: string, req: NetworkDisconnectRequest): Promise<void>;
}

export interface RegistryEngine {
  /** Pulls an image; progress events stream while it runs; a failure ends the stream by throwing. */
  imagePull(reference: string, opts?: ImagePullOptions): AsyncIterable<ProgressEvent>;
  imagePush(reference: string, opts?: ImagePushOptions): AsyncIterable<ProgressEvent>;
  /** GET /distribution/{name}/json: the manifest's descriptor and platforms, without pulling. */
  distributionInspect(
    reference: string,
    opts?: { readonly auth?: AuthConfig; readonly signal?: AbortSignal },
  ): Promise<DistributionInspect>;
  /** Checks credentials against a registry (POST /auth); the CLI stores them. */
  registryLogin(auth: AuthConfig): Promise<AuthResponse>;
}

export interface BuildEngine {
  /**
   * POST /build: builds an image from a Dockerfile and a context. Progress events (BuildKit's
   * vertices and their output) stream while it runs; the last is the `result`; a failed build
   * ends the stream with its error (the step and, for RUN, the exit code in the message).
   */
  imageBuild(context: BuildContextSource, opts?: ImageBuildOptions): AsyncIterable<BuildEvent>;
  /** POST /build/prune: removes build cache (dangling records, or all with `All`). */
  buildPrune(opts?: BuildCachePruneOptions): Promise<BuildCachePruneReport>;
}

export interface SystemEngine {
  systemDf(): Promise<DiskUsage>;
  /** GET /info: the engine, its store and its host, in the swagger's SystemInfo shape. */
  systemInfo(): Promise<SystemInfo>;
  /** GET /version: the engine's own version facts (the CLI prints them as "Server"). */
  systemVersion(): Promise<SystemVersion>;
  /**
   * GET /events: what changed in the store, from every process that acts on it (the CLI,
   * conmon's exit commands, the API server). Past events first (with `since`), then live ones
   * as they happen, until `until` passes or `signal` aborts (the iterable then ends quietly).
   * Bad filters throw at the call (so a server refuses them before its stream starts); bad
   * times make the first iteration reject.
   */
  events(opts?: EventsOptions): AsyncIterable<EventMessage>;
}

/** The whole contract. Later issues add containers, networks, volumes, build and registry. */
export interface Engine
  extends ImageEngine,
    ContainerEngine,
    VolumeEngine,
    NetworkEngine,
    RegistryEngine,
    SystemEngine,
    BuildEngine {
  /** Releases what the engine holds (database handles, sockets). */
  close(): Promise<void>;
}
