/**
 * The request and response vocabulary of the engine: the Docker Engine API's own types
 * (https://docs.docker.com/reference/api/engine/), field names and casing included. The CLI
 * builds these, the API server decodes them from HTTP, and the engine consumes them.
 */

/** `filters` as the Docker API encodes it: key → list of values. */
export type Filters = Readonly<Record<string, readonly string[]>>;

/** Bytes in and out of the engine. Node's Readable is one; so is any async generator of chunks. */
export type ByteSource = AsyncIterable<Uint8Array>;

/** GET /images/json item. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  /** Unix seconds. */
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

export interface ImageListOptions {
  readonly all?: boolean;
  readonly filters?: Filters;
  readonly digests?: boolean;
}

/** The image's container configuration as GET /images/{name}/json shows it. */
export interface ImageInspectConfig {
  User: string;
  ExposedPorts: Record<string, Record<string, never>> | null;
  Env: string[] | null;
  Cmd: string[] | null;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
  ArgsEscaped?: boolean;
}

/** GET /images/{name}/json. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageInspectConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** GET /images/{name}/history item. */
export interface HistoryResponseItem {
  Id: string;
  /** Unix seconds. */
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** DELETE /images/{name} item. */
export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ImageRemoveOptions {
  readonly force?: boolean;
  readonly noprune?: boolean;
}

export interface ImagesPruneResponse {
  ImagesDeleted: ImageDeleteResponseItem[];
  SpaceReclaimed: number;
}

export interface ImagePruneOptions {
  readonly filters?: Filters;
}

/** POST /images/create?fromSrc=- (import). */
export interface ImageImportOptions {
  /** Repository[:tag] to tag the new image with. */
  readonly reference?: string;
  /** Dockerfile instructions applied to the config: CMD, ENTRYPOINT, ENV, EXPOSE, … */
  readonly changes?: readonly string[];
  readonly message?: string;
  readonly platform?: string;
  readonly signal?: AbortSignal;
}

export interface ImageImportResult {
  readonly id: string;
}

export type ImageArchiveFormat = "docker-archive" | "oci-archive";

export interface ImageSaveOptions {
  readonly format?: ImageArchiveFormat;
  readonly platform?: string;
  readonly signal?: AbortSignal;
}

export interface ImageLoadOptions {
  readonly quiet?: boolean;
  readonly platform?: string;
  readonly signal?: AbortSignal;
}

/** What a load did, one entry per image: tagged ones by reference, others by ID. */
export interface ImageLoadResult {
  readonly loaded: ReadonlyArray<{ readonly reference?: string; readonly id: string }>;
  /** Tags that pointed at another image before the load (that image is now untagged). */
  readonly replaced?: ReadonlyArray<{ readonly reference: string; readonly previous: string }>;
}

/** GET /system/df (images part; containers, volumes and build cache come with later issues). */
export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: unknown[];
  Volumes: unknown[];
  BuildCache: unknown[];
}
