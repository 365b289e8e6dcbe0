/**
 * The Engine contract: everything a berth client can ask of an engine, in the Docker Engine
 * API's vocabulary. Two implementations: local/ (in process) and client/ (over the Docker API).
 * Methods never write to stdout; they return data, and byte streams as async iterables.
 */
import type {
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
  ImageRemoveOptions,
  ImageSaveOptions,
  ImageSummary,
  ImagesPruneResponse,
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

export interface SystemEngine {
  systemDf(): Promise<DiskUsage>;
}

/** The whole contract. Later issues add containers, networks, volumes, build and registry. */
export interface Engine extends ImageEngine, SystemEngine {
  /** Releases what the engine holds (database handles, sockets). */
  close(): Promise<void>;
}
