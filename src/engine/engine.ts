/**
 * The Engine contract: everything a berth client can ask of an engine, in the Docker Engine
 * API's vocabulary. Two implementations: local/ (in process) and client/ (over the Docker API).
 * Methods never write to stdout; they return data, and byte streams as async iterables.
 */
import type {
  AttachSession,
  AuthConfig,
  AuthResponse,
  ByteSource,
  ContainerCreateOptions,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspect,
  ContainerListOptions,
  ContainerLogsOptions,
  ContainerRemoveOptions,
  ContainerStartOptions,
  ContainerStopOptions,
  ContainerSummary,
  ContainersPruneResponse,
  ContainerWaitResponse,
  DiskUsage,
  Filters,
  HistoryResponseItem,
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
  ProgressEvent,
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
  containerLogs(id: string, opts?: ContainerLogsOptions): AsyncIterable<LogEntry>;
  containerPause(id: string): Promise<void>;
  containerUnpause(id: string): Promise<void>;
  containerRename(id: string, name: string): Promise<void>;
  containerPrune(opts?: { filters?: Filters }): Promise<ContainersPruneResponse>;
  /** What conmon's exit command runs (`berth container cleanup ID`): record the exit, --rm, restart. */
  containerCleanup(id: string): Promise<void>;
}

export interface VolumeEngine {
  volumeCreate(req: VolumeCreateRequest): Promise<Volume>;
  volumeList(opts?: VolumeListOptions): Promise<VolumeListResponse>;
  volumeInspect(name: string): Promise<Volume>;
  volumeRemove(name: string, opts?: VolumeRemoveOptions): Promise<void>;
  volumePrune(opts?: VolumePruneOptions): Promise<VolumesPruneResponse>;
}

export interface RegistryEngine {
  /** Pulls an image; progress events stream while it runs, an `error` event ends a failure. */
  imagePull(reference: string, opts?: ImagePullOptions): AsyncIterable<ProgressEvent>;
  imagePush(reference: string, opts?: ImagePushOptions): AsyncIterable<ProgressEvent>;
  /** Checks credentials against a registry (POST /auth); the CLI stores them. */
  registryLogin(auth: AuthConfig): Promise<AuthResponse>;
}

export interface SystemEngine {
  systemDf(): Promise<DiskUsage>;
}

/** The whole contract. Later issues add containers, networks, volumes, build and registry. */
export interface Engine extends ImageEngine, ContainerEngine, VolumeEngine, RegistryEngine, SystemEngine {
  /** Releases what the engine holds (database handles, sockets). */
  close(): Promise<void>;
}
