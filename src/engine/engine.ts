/**
 * The Engine contract: everything a berth client can ask of an engine, in the Docker Engine
 * API's vocabulary. Two implementations: local/ (in process) and client/ (over the Docker API).
 * Methods never write to stdout; they return data, and byte streams as async iterables.
 */
import type {
  AuthConfig,
  AuthResponse,
  ByteSource,
  DiskUsage,
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
export interface Engine extends ImageEngine, VolumeEngine, RegistryEngine, SystemEngine {
  /** Releases what the engine holds (database handles, sockets). */
  close(): Promise<void>;
}
