/**
 * The request and response vocabulary of the engine: the Docker Engine API's own types
 * (https://docs.docker.com/reference/api/engine/), field names and casing included. The CLI
 * builds these, the API server decodes them from HTTP, and the engine consumes them.
 * Declarations only: no behaviour lives here.
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
  /** Compute SharedSize (the size of layers other images use too); -1 otherwise. */
  readonly sharedSize?: boolean;
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

/**
 * berth's image analysis (`berth image analyze`, GET /images/{name}/analyze): what each layer
 * adds, changes and removes, and the bytes the stack wastes, with dive's efficiency score.
 */
export interface ImageAnalysis {
  Id: string;
  RepoTags: string[];
  /** Bytes of the files of every layer (each layer's own, as `history` sizes them). */
  Size: number;
  /** Bytes of every layer but the first (what the image adds to its base layer). */
  UserSize: number;
  /** Bytes of every path that more than one layer holds (overwritten, removed or duplicated), all copies counted, as dive counts them. */
  WastedBytes: number;
  /** WastedBytes / UserSize (0 when the image is one layer). */
  WastedUserPercent: number;
  /** dive's score: Σ smallest size each path had / Σ every size it had, over all layers; 1 when nothing is wasted. */
  Efficiency: number;
  Layers: ImageAnalysisLayer[];
  /** Paths held by more than one layer, most bytes first. */
  Inefficiencies: ImageAnalysisInefficiency[];
  /** The largest files of the image as it runs, largest first (at most 20). */
  LargestFiles: ImageAnalysisFile[];
}

export interface ImageAnalysisLayer {
  /** Position from the bottom, 0 first. */
  Index: number;
  /** The layer's diffID and its stored blob. */
  DiffID: string;
  Digest: string;
  /** The history row's instruction (created_by), "" when the image has no history for it. */
  CreatedBy: string;
  /** Bytes of the layer's files. */
  Size: number;
  Added: number;
  Changed: number;
  Removed: number;
  /** Every change, by path: A(dded), C(hanged) or D(eleted); a removed directory is one D. */
  Changes: ImageAnalysisChange[];
}

export interface ImageAnalysisChange {
  Kind: "A" | "C" | "D";
  Path: string;
  /** The file's bytes in this layer; for D, the bytes it hid. */
  Size: number;
}

export interface ImageAnalysisInefficiency {
  Path: string;
  /** How many layers hold the path (a removal counts as one). */
  Count: number;
  WastedBytes: number;
}

export interface ImageAnalysisFile {
  Path: string;
  Size: number;
  /** The layer the file comes from. */
  Layer: number;
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
  /** Receives `Loading layer` progress (bytes of each layer read) while the load runs. */
  readonly onProgress?: (e: ProgressEvent) => void;
  readonly signal?: AbortSignal;
}

/** What a load did, one entry per image: tagged ones by reference, others by ID. */
export interface ImageLoadResult {
  readonly loaded: ReadonlyArray<{ readonly reference?: string; readonly id: string }>;
  /** Tags that pointed at another image before the load (that image is now untagged). */
  readonly replaced?: ReadonlyArray<{ readonly reference: string; readonly previous: string }>;
}

/** GET /info (the swagger's SystemInfo; Swarm and plugin parts as a stand-alone engine has them). */
export interface SystemInfo {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DriverStatus: Array<[string, string]>;
  DockerRootDir: string;
  Plugins: { Volume: string[]; Network: string[]; Authorization: string[] | null; Log: string[] };
  MemoryLimit: boolean;
  SwapLimit: boolean;
  KernelMemoryTCP: boolean;
  CpuCfsPeriod: boolean;
  CpuCfsQuota: boolean;
  CPUShares: boolean;
  CPUSet: boolean;
  PidsLimit: boolean;
  OomKillDisable: boolean;
  IPv4Forwarding: boolean;
  BridgeNfIptables: boolean;
  BridgeNfIp6tables: boolean;
  Debug: boolean;
  NFd: number;
  NGoroutines: number;
  SystemTime: string;
  LoggingDriver: string;
  CgroupDriver: string;
  CgroupVersion: string;
  NEventsListener: number;
  KernelVersion: string;
  OperatingSystem: string;
  OSVersion: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  IndexServerAddress: string;
  RegistryConfig: {
    AllowNondistributableArtifactsCIDRs?: string[] | null;
    AllowNondistributableArtifactsHostnames?: string[] | null;
    InsecureRegistryCIDRs: string[];
    IndexConfigs: Record<string, { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }>;
    Mirrors: string[];
  };
  GenericResources: null;
  HttpProxy: string;
  HttpsProxy: string;
  NoProxy: string;
  Name: string;
  Labels: string[];
  ExperimentalBuild: boolean;
  ServerVersion: string;
  Runtimes: Record<string, { path: string }>;
  DefaultRuntime: string;
  Swarm: {
    NodeID: string;
    NodeAddr: string;
    LocalNodeState: string;
    ControlAvailable: boolean;
    Error: string;
    RemoteManagers: null;
  };
  LiveRestoreEnabled: boolean;
  Isolation: string;
  InitBinary: string;
  ContainerdCommit: { ID: string };
  RuncCommit: { ID: string };
  InitCommit: { ID: string };
  SecurityOptions: string[];
  CDISpecDirs: string[];
  Warnings: string[] | null;
}

/** GET /version. */
export interface SystemVersion {
  Platform: { Name: string };
  Components: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
}

/** GET /system/df (images part; containers, volumes and build cache come with later issues). */
export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: ContainerSummary[];
  /** Every volume, with UsageData. */
  Volumes: Volume[];
  BuildCache: BuildCacheRecord[];
}

// ---------------------------------------------------------------------------------------------
// Containers (POST /containers/create and friends). Field names and casing are the API's.

/** `Config` of a container create request (and of an inspected container). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: ImageInspectConfig["Healthcheck"];
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  /** Seconds. */
  StopTimeout?: number;
  Shell?: string[] | null;
}

export interface RestartPolicy {
  /** "" | "no" | "always" | "unless-stopped" | "on-failure" */
  Name: string;
  MaximumRetryCount?: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** `Mounts` entries of HostConfig (the --mount flag). */
export interface MountSpec {
  Type: "bind" | "volume" | "tmpfs";
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface WeightDevice {
  Path: string;
  Weight: number;
}

export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

export interface DeviceRequest {
  Driver?: string;
  Count?: number;
  DeviceIDs?: string[] | null;
  Capabilities?: string[][] | null;
  Options?: Record<string, string> | null;
}

/** The resource part of HostConfig, in the order of Docker's Go struct (inspect prints it so). */
export interface Resources {
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  BlkioWeightDevice?: WeightDevice[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }> | null;
  DeviceCgroupRules?: string[] | null;
  DeviceRequests?: DeviceRequest[] | null;
  /** Deprecated by Docker (API 1.42); refused when set. */
  KernelMemory?: number;
  KernelMemoryTCP?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  CpuCount?: number;
  CpuPercent?: number;
  IOMaximumIOps?: number;
  IOMaximumBandwidth?: number;
}

export interface HostConfig extends Resources {
  /** `volume:/path[:ro]` and `/host:/path[:ro]` (the -v flag). */
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type: string; Config: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  ConsoleSize?: [number, number];
  Annotations?: Record<string, string>;
  Mounts?: MountSpec[];
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: string;
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string>;
  /** Container path → tmpfs options (the --tmpfs flag). */
  Tmpfs?: Record<string, string>;
  UTSMode?: string;
  UsernsMode?: string;
  /** Bytes; 64 MiB when 0. */
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Isolation?: string;
  Init?: boolean | null;
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DriverOpts?: Record<string, string> | null;
  DNSNames?: string[] | null;
}

export interface NetworkingConfig {
  EndpointsConfig?: Record<string, EndpointSettings>;
}

/** POST /containers/create body (Config fields inline, as the API has them). */
export interface ContainerCreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

export interface ContainerCreateOptions {
  readonly name?: string;
  readonly platform?: string;
}

/** POST /containers/{id}/update body: the resource limits (Resources inline) and the restart policy. */
export interface ContainerUpdateRequest extends Resources {
  RestartPolicy?: RestartPolicy;
}

/** POST /containers/{id}/update answer. */
/**
 * berth's own (`container update --publish-add/--publish-rm`; Docker can only recreate the
 * container): published ports added to and removed from HostConfig.PortBindings, at once on a
 * running container. Keys are `PORT/PROTO`; removals apply first.
 */
export interface ContainerPortsUpdate {
  Add?: Record<string, PortBinding[]>;
  /** An empty list removes every binding of that container port. */
  Remove?: Record<string, PortBinding[]>;
}

export interface ContainerUpdateResponse {
  Warnings: string[];
}

export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[];
}

/** A mount as inspect shows it. */
export interface MountPoint {
  Type: "bind" | "volume" | "tmpfs";
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export type ContainerStatus =
  | "created"
  | "running"
  | "paused"
  | "restarting"
  | "removing"
  | "exited"
  | "dead";

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Present once a container with a healthcheck has started. */
  Health?: HealthState;
}

export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** One healthcheck probe's result (Docker's HealthcheckResult). */
export interface HealthcheckResult {
  /** RFC 3339 with nanoseconds. */
  readonly Start: string;
  readonly End: string;
  readonly ExitCode: number;
  readonly Output: string;
}

/** State.Health: the status, consecutive failures, and the last five results (oldest first). */
export interface HealthState {
  readonly Status: HealthStatus;
  readonly FailingStreak: number;
  readonly Log: readonly HealthcheckResult[];
}

/** GET /containers/{id}/json. */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  Config: ContainerConfig;
  NetworkSettings: {
    Bridge: string;
    SandboxID: string;
    SandboxKey: string;
    Ports: Record<string, PortBinding[] | null>;
    HairpinMode?: boolean;
    LinkLocalIPv6Address?: string;
    LinkLocalIPv6PrefixLen?: number;
    SecondaryIPAddresses?: null;
    SecondaryIPv6Addresses?: null;
    EndpointID?: string;
    Gateway?: string;
    GlobalIPv6Address?: string;
    GlobalIPv6PrefixLen?: number;
    IPAddress?: string;
    IPPrefixLen?: number;
    IPv6Gateway?: string;
    MacAddress?: string;
    Networks: Record<string, EndpointSettings>;
  };
}

export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: "tcp" | "udp" | "sctp";
}

/** GET /containers/json item. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: ContainerStatus;
  /** "Up 2 minutes", "Exited (0) 5 seconds ago", … */
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: MountPoint[];
}

export interface ContainerListOptions {
  readonly all?: boolean;
  readonly limit?: number;
  readonly size?: boolean;
  readonly filters?: Filters;
}

// ---------------------------------------------------------------------------------------------
// Volumes

/** GET /volumes/{name}. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string>;
  Scope: "local" | "global";
  Options: Record<string, string>;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[];
}

export interface VolumesPruneResponse {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

export interface VolumeListOptions {
  readonly filters?: Filters;
}

export interface VolumeRemoveOptions {
  readonly force?: boolean;
}

export interface VolumePruneOptions {
  readonly filters?: Filters;
}

// ---------------------------------------------------------------------------------------------
// Registries

/** Credentials for one registry, as the X-Registry-Auth header carries them. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** A token from a previous login (identity token), when the registry gave one. */
  identitytoken?: string;
  registrytoken?: string;
  serveraddress?: string;
}

/** One line of a pull/push progress stream (Docker's JSON message). */
export interface ProgressEvent {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message: string };
  aux?: Record<string, unknown>;
}

export interface ImagePullOptions {
  readonly platform?: string;
  /** Pull every tag of the repository (`pull -a`). */
  readonly allTags?: boolean;
  readonly auth?: AuthConfig;
  readonly signal?: AbortSignal;
}

export interface ImagePushOptions {
  readonly allTags?: boolean;
  readonly auth?: AuthConfig;
  readonly signal?: AbortSignal;
}

/** GET /distribution/{name}/json: the registry's descriptor for a reference and its platforms. */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Array<{ architecture: string; os: string; variant?: string }>;
}

/** POST /auth answer. */
export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Container lifecycle operations

/** Output of an attached container, stream by stream. */
export interface AttachHandlers {
  onStdout(data: Uint8Array): void;
  onStderr(data: Uint8Array): void;
  /** The container's output ended (its process exited, or conmon went away). */
  onEnd(): void;
}

/** An attached session: the container's stdin, and detaching. */
export interface AttachSession {
  /** Resolves once the data is handed on (or dropped: stdin is gone), so callers can wait before reading more. */
  writeStdin(data: Uint8Array): Promise<void>;
  endStdin(): void;
  /** Resizes the container's terminal (with Tty). */
  resize(height: number, width: number): Promise<void>;
  detach(): void;
}

export interface ContainerStartOptions {
  /** Attach before the process runs, so no output is lost (foreground `run`, `start -a`). */
  readonly attach?: AttachHandlers;
  /**
   * The caller waits in the foreground for the exit and then asks for the exit work itself
   * (`Engine.containerForegroundExit`), which a local engine then does in the caller's process
   * instead of conmon's exit command. An engine without `containerForegroundExit` (a remote one,
   * whose server's exit command does the work) has nothing to do with it.
   */
  readonly foreground?: boolean;
}

export interface ContainerStopOptions {
  /** Seconds before SIGKILL; -1 waits forever; default the container's StopTimeout or 10. */
  readonly timeout?: number;
  readonly signal?: string;
}

export interface ContainerRemoveOptions {
  readonly force?: boolean;
  /** Also remove the container's anonymous volumes. */
  readonly volumes?: boolean;
}

export interface ContainerWaitResponse {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export interface ContainerLogsOptions {
  readonly follow?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
  /** Unix seconds (fractional allowed). */
  readonly since?: number;
  readonly until?: number;
  readonly tail?: number;
  readonly signal?: AbortSignal;
}

export interface LogEntry {
  readonly stream: "stdout" | "stderr";
  readonly data: Uint8Array;
  /** RFC 3339 with nanoseconds; "" for a final partial line. */
  readonly time: string;
}

/** What starting a daemon did to containers (restart policies after a reboot or a crash). */
export interface StartupReport {
  started: string[];
  failed: Array<{ id: string; message: string }>;
}

export interface ContainersPruneResponse {
  ContainersDeleted: string[];
  SpaceReclaimed: number;
}

/** GET /containers/{id}/top. */
export interface ContainerTopResponse {
  Titles: string[];
  Processes: string[][];
}

/** GET /containers/{id}/stats?stream=false (the fields berth fills). */
export interface ContainerStatsResponse {
  read: string;
  preread: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
  memory_stats: { usage: number; limit: number };
  pids_stats: { current: number };
  blkio_stats?: {
    io_service_bytes_recursive: Array<{ major: number; minor: number; op: string; value: number }>;
  };
  networks?: Record<
    string,
    {
      rx_bytes: number;
      rx_packets: number;
      rx_errors: number;
      rx_dropped: number;
      tx_bytes: number;
      tx_packets: number;
      tx_errors: number;
      tx_dropped: number;
    }
  >;
}

// ---------------------------------------------------------------------------------------------
// Container filesystem: changes, commit, export, archive (GET/HEAD/PUT /containers/{id}/archive)

/** One entry of GET /containers/{id}/changes. Kind: 0 modified, 1 added, 2 deleted. */
export interface ContainerChange {
  Kind: 0 | 1 | 2;
  Path: string;
}

/** POST /commit: the new image's reference, its history row (comment, author) and --change lines. */
export interface ContainerCommitOptions {
  /** REPOSITORY[:TAG] for the new image. */
  reference?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions applied to the config (as `import -c`). */
  changes?: readonly string[];
  /** Pause a running container while its writable layer is read (default true). */
  pause?: boolean;
  signal?: AbortSignal;
}

export interface ContainerCommitResponse {
  Id: string;
}

/** The X-Docker-Container-Path-Stat header of HEAD/GET /containers/{id}/archive. */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits (type bits in Go's positions: dir 1<<31, symlink 1<<27, …). */
  mode: number;
  /** RFC 3339. */
  mtime: string;
  /** For a symlink, the absolute path inside the container it resolves to; otherwise "". */
  linkTarget: string;
}

/** GET /containers/{id}/archive: the stat of the path and a tar whose root entry is its base name. */
export interface ContainerArchive {
  stat: ContainerPathStat;
  content: ByteSource;
}

/** PUT /containers/{id}/archive. */
export interface ContainerArchivePutOptions {
  /** Refuse to replace a directory by a non-directory or the reverse (the CLI always sets it). */
  noOverwriteDirNonDir?: boolean;
  /** Keep the tar's uid/gid (`cp -a`); otherwise files belong to the container's root. */
  copyUIDGID?: boolean;
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// Exec (POST /containers/{id}/exec, POST /exec/{id}/start)

/** POST /containers/{id}/exec body (with ExecStartConfig's Detach). */
export interface ExecConfig {
  /** The command and its arguments; required. */
  Cmd: string[];
  /** `KEY=VALUE` added to (or replacing) the container's; a bare `KEY` removes one. */
  Env?: string[] | null;
  /** Default: the container's WorkingDir, else "/". */
  WorkingDir?: string;
  /** `name|uid[:group|gid]`; default: the container's User. */
  User?: string;
  Tty?: boolean;
  /** Initial terminal size [height, width] (with Tty). */
  ConsoleSize?: [number, number] | null;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  /** Run in the background: no streams, nothing to wait for. */
  Detach?: boolean;
  /** Every capability the host has, for this process only. */
  Privileged?: boolean;
}

export interface ContainerExecOptions {
  /** Receives the process's output; connected before the process runs, so nothing is lost. */
  readonly attach?: AttachHandlers;
  readonly signal?: AbortSignal;
}

/** GET /exec/{id}/json (the fields berth reports). */
export interface ExecInspect {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
}

/**
 * An attached exec session. Lifecycle: `containerExec` resolves once the process runs (its
 * output already flows to the handlers); write its stdin, resize, then `wait()` for the exit
 * code, which also removes the session's state. `detach()` lets the process run on alone.
 */
export interface ExecSession extends AttachSession {
  readonly id: string;
  wait(): Promise<ExecInspect>;
}

// ---------------------------------------------------------------------------------------------
// Build (POST /build). Options are Docker's ImageBuildOptions; progress is BuildKit's vertex
// model (numbered steps, their log output, CACHED/DONE/ERROR).

/**
 * The build context as the engine receives it: the Docker API sends a tar; the local CLI names
 * a directory (no tar needed in process); `-` sends a Dockerfile alone.
 */
export type BuildContextSource =
  | { readonly kind: "directory"; readonly path: string }
  | { readonly kind: "tar"; readonly stream: ByteSource }
  | { readonly kind: "dockerfile"; readonly text: string };

/** Docker's ImageBuildOptions (the members berth uses). */
export interface ImageBuildOptions {
  /** Full or familiar references to tag the result with (`-t`, several). */
  readonly Tags?: readonly string[];
  /** The Dockerfile's path inside the context (default `Dockerfile`). */
  readonly Dockerfile?: string;
  /** The Dockerfile's text when it is not in the context (`-f -`, or `-f` outside the context). */
  readonly DockerfileText?: string;
  /** `--build-arg K=V`; a null value means "declared on the command line without a value". */
  readonly BuildArgs?: Readonly<Record<string, string | null>>;
  readonly Target?: string;
  readonly NoCache?: boolean;
  /**
   * berth's own: which layer steps get a progress line saying why the cache did or did not serve
   * them. `changed` (the default): a step that ran although the previous build of the same
   * Dockerfile had it; `all` (`--explain-cache`): every step; `none` (`BERTH_HINTS=0`): no step.
   */
  readonly CacheExplanations?: "changed" | "all" | "none";
  /**
   * berth's own: where a context that arrives as a tar came from (a client's resolved directory),
   * so cache explanations compare a build with the previous build of the same directory, as
   * they do for a directory built locally. Names the build's place only; never read as a path.
   */
  readonly ContextKey?: string;
  /** `--pull`: always look for a newer base image. */
  readonly PullParent?: boolean;
  /** `--label`: added to the final image's labels. */
  readonly Labels?: Readonly<Record<string, string>>;
  /** `-q`: the CLI prints only the image ID (the engine still reports progress). */
  readonly SuppressOutput?: boolean;
  /** `--network` for RUN steps: `default`, `none` or `host`. */
  readonly NetworkMode?: string;
  /** `--platform`: `os/arch[/variant]`; berth builds only for the host's platform. */
  readonly Platform?: string;
  /** X-Registry-Config: credentials by registry (config.json `auths` keys) for base images pulled. */
  readonly RegistryAuth?: Readonly<Record<string, AuthConfig>>;
  readonly signal?: AbortSignal;
}

/** A step (BuildKit vertex) changed state. `id` is the `#N` of plain progress. */
export interface BuildVertexEvent {
  readonly kind: "vertex";
  readonly id: number;
  /** `[2/5] RUN npm install`, `[internal] load build definition from Dockerfile`, … */
  readonly name: string;
  /** "canceled": stopped because another step failed or the build was aborted. */
  readonly status: "started" | "cached" | "done" | "error" | "canceled";
  /** Set with "done" and "error". */
  readonly durationMs?: number;
  readonly error?: string;
}

/** Output of a step: a RUN's stdout (1)/stderr (2), or a status line of the builder (1). */
export interface BuildLogEvent {
  readonly kind: "log";
  readonly id: number;
  readonly stream: 1 | 2;
  readonly data: Uint8Array;
}

/** The build's result, the last event. */
export interface BuildResultEvent {
  readonly kind: "result";
  /** `sha256:…` */
  readonly imageId: string;
  /** The references the image was tagged with (familiar form). */
  readonly tags: readonly string[];
}

export type BuildEvent = BuildVertexEvent | BuildLogEvent | BuildResultEvent;

/** POST /build/prune options. */
export interface BuildCachePruneOptions {
  /** `-a`: every cache record, not only those no image uses. */
  readonly All?: boolean;
  readonly Filters?: Filters;
}

/** POST /build/prune answer. */
export interface BuildCachePruneReport {
  CachesDeleted: string[];
  SpaceReclaimed: number;
}

/** GET /system/df BuildCache item. */
export interface BuildCacheRecord {
  ID: string;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

// ---------------------------------------------------------------------------------------------
// Networks

export interface IPAMConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** POST /networks/create. */
export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  EnableIPv6?: boolean;
  CheckDuplicate?: boolean;
  IPAM?: { Driver?: string; Config?: IPAMConfig[]; Options?: Record<string, string> };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface NetworkCreateResponse {
  Id: string;
  Warning: string;
}

/** A container on a network, as network inspect shows it. */
export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** GET /networks/{id} (and the items of GET /networks). */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IPAMConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface NetworkListOptions {
  readonly filters?: Filters;
}

export interface NetworksPruneResponse {
  NetworksDeleted: string[];
}

/** POST /networks/{id}/connect. */
export interface NetworkConnectRequest {
  Container: string;
  EndpointConfig?: EndpointSettings;
}

/** POST /networks/{id}/disconnect. */
export interface NetworkDisconnectRequest {
  Container: string;
  Force?: boolean;
}

/** The kinds of object that emit events (EventMessage.Type). */
export type EventType =
  | "builder"
  | "config"
  | "container"
  | "daemon"
  | "image"
  | "network"
  | "node"
  | "plugin"
  | "secret"
  | "service"
  | "volume";

/** What an event is about: its ID (container ID, image reference or ID, volume name…) and attributes. */
export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

/**
 * GET /events item (EventMessage). `status`, `id` and `from` are the deprecated fields Docker
 * still fills for container events (and `status`/`id` for image events).
 */
export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: EventActor;
  scope: "local" | "swarm";
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds (a multiple of 1024, so the number is exact). */
  timeNano: number;
}

export interface EventsOptions {
  /**
   * Unix seconds (fractional allowed): past events at or after this time come first. Without
   * it, only events that happen after the call.
   */
  readonly since?: number;
  /** Unix seconds: events after this time are not shown, and the stream ends at this time. */
  readonly until?: number;
  /** type, event, container, image, label, network, volume, scope, daemon, plugin, node, service, secret, config. */
  readonly filters?: Filters;
  readonly signal?: AbortSignal;
}
