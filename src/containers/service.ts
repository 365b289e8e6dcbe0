/**
 * Containers: create, start, stop, kill, remove, list, inspect, wait and the rest of the
 * lifecycle, in the Docker Engine API's terms. A container is a record (metadata/containers)
 * plus a directory (writable layer, bundle, log); its process belongs to conmon and runc. The
 * record's state is what berth last saw; `reconcile()` at the start of every operation brings it
 * in line with conmon's exit files, and conmon's exit command (`berth container cleanup ID`)
 * records the exit, honours `--rm` and restart policies when no berth process is running.
 * Every verb that changes a container runs under that container's lock (`locked()`); it returns
 * data and never renders or prints (the CLI and the API server do).
 */

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { availableParallelism, hostname as hostHostname } from "node:os";
import { join } from "node:path";
import { sleep } from "../base/async.js";
import {
  conflict,
  errnoCode,
  errorMessage,
  failedPrecondition,
  internal,
  invalidArgument,
  notFound,
} from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { findByIdNameOrPrefix } from "../base/lookup.js";
import type {
  AttachHandlers,
  AttachSession,
  ContainerCreateOptions,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspect,
  ContainerListOptions,
  ContainerLogsOptions,
  ContainerPortsUpdate,
  ContainerStatsResponse,
  ContainerSummary,
  ContainersPruneResponse,
  ContainerTopResponse,
  ContainerUpdateRequest,
  ContainerUpdateResponse,
  EndpointSettings,
  Filters,
  LogEntry,
  MountPoint,
  StartupReport,
} from "../engine/types.js";
import { matchLabels, parseTimestamp } from "../images/filters.js";
import type { ImageStore } from "../images/store.js";
import {
  ContainerMetadata,
  type ContainerRecord,
  type ContainerStateUpdate,
} from "../metadata/containers.js";
import type { MetadataDb } from "../metadata/db.js";
import type { VolumeMetadata } from "../metadata/volumes.js";
import { hostsFile, resolvConf } from "../network/hosts.js";
import { requestedPorts } from "../network/ports.js";
import { type Attachment, isNetworkName, type NetworkService } from "../network/service.js";
import { type Digest, parseDigest } from "../oci/digest.js";
import { CommandInvocationError, RuncCommandError } from "../runtime/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import { lstatIfExists, readTextIfExists, statIfExists, writeFileReplace } from "../sys/fs.js";
import type { LockDirApi, LockOptions } from "../sys/lock.js";
import type { ProcessIdentity } from "../sys/process.js";
import type { VolumeService } from "../volumes/service.js";
import { emitContainerEvent, emitVolumeEvents, signalNumber } from "./events.js";
import {
  applyProbeResult,
  type HealthcheckResult,
  healthOnStart,
  normalizeHealthcheck,
  type ProbePlan,
  probePlan,
  validateHealthcheck,
} from "./health.js";
import { ensureSupervisor, type SupervisorLauncher } from "./health-supervisor.js";
import { conmonLogSettings, logNeedsSupervisor, resolveLogConfig } from "./log-config.js";
import { convertJsonLog, rotateK8sLog } from "./log-files.js";
import { mergeConfig, processArgs } from "./merge.js";
import { type PlannedMount, planMounts } from "./mounts.js";
import { generateName, VALID_NAME } from "./names.js";
import { planPortsUpdate } from "./ports-update.js";
import { ContainerQueries, cgroupVersion } from "./queries.js";
import { ContainerRecovery } from "./recovery.js";
import { parseSignal } from "./signals.js";
import { rfc3339Nano, ZERO_TIME } from "./status.js";
import { planUpdate, UpdateConflict, type UpdateHostFacts } from "./update.js";

/** How a container's process is described to the runtime: everything start needs beyond the record. */
export interface StartContext {
  readonly rec: ContainerRecord;
  readonly rootfs: string;
  readonly mounts: ReadonlyArray<{ destination: string; type: string; source: string; options: string[] }>;
  readonly hostsFiles: { hosts: string; hostname: string; resolvConf: string };
  /** The network namespace to join (a bridge attachment's, or another container's); none: a new one. */
  readonly netns?: string;
}

/** Builds the OCI runtime spec for a start (runtime/spec, fed with host facts). */
export type SpecBuilder = (ctx: StartContext) => Promise<string>;

export interface ContainerServiceDeps {
  readonly db: MetadataDb;
  readonly images: ImageStore;
  readonly volumes: VolumeService;
  readonly volumeMeta: VolumeMetadata;
  readonly driver: Runtime;
  readonly network: NetworkService;
  readonly buildSpec: SpecBuilder;
  /** A file under the runroot that says this boot's full repair was done (recovery.ts). */
  readonly repairMarker?: string;
  /** `<runroot>/locks`: one cross-process lock per container (sys/lock). */
  readonly locks: LockDirApi;
  /** Finds or starts the store's health supervisor (health-supervisor.ts); none: no probes run. */
  readonly healthSupervisor?: SupervisorLauncher;
  readonly now?: () => number;
}

export interface StartOptions {
  /** Connect to the container's output before its process runs (foreground `run`, `start -a`). */
  readonly attach?: AttachHandlers;
  /**
   * The caller stays in the foreground until the process exits and then does the exit work
   * itself (`foregroundExit`), so conmon's exit command is held back and cancelled (see there).
   */
  readonly foreground?: boolean;
}

/**
 * Seconds conmon holds the exit command of a foreground container back: the foreground client
 * does the exit work at once and cancels it, so it only runs when that client died (or detached)
 * first. Long enough for a busy machine's client to finish the work, short enough to be the
 * safety net soon.
 */
export const FOREGROUND_EXIT_DELAY_S = 2;

export { CommandInvocationError, invocationError } from "../runtime/errors.js";

/** States in which a container has (or is about to have again) a process. */
export const RUNNING_STATES: ReadonlySet<string> = new Set(["running", "paused", "restarting"]);

export class ContainerService {
  readonly meta: ContainerMetadata;
  readonly now: () => number;
  /** Everything a dead process leaves behind (recovery.ts). */
  readonly recovery: ContainerRecovery;
  /** list, filters, inspect, logs, top, stats: no lock (queries.ts). */
  readonly queries: ContainerQueries;
  /** This process is the store's health supervisor (or hosts it): never start another. */
  hostsHealthSupervisor = false;
  /** Monitors of containers this process started in the foreground, holding their exit commands back. */
  private readonly heldExits = new Map<string, ProcessIdentity>();

  constructor(readonly deps: ContainerServiceDeps) {
    this.meta = new ContainerMetadata(deps.db);
    this.now = deps.now ?? Date.now;
    this.recovery = new ContainerRecovery(this);
    this.queries = new ContainerQueries(this);
  }

  private get driver(): Runtime {
    return this.deps.driver;
  }

  /** Records a container event (see containers/events.ts). */
  emit(rec: ContainerRecord, action: string, extra: Readonly<Record<string, string>> = {}): void {
    emitContainerEvent(this.deps.images.events, rec, action, extra);
  }

  /**
   * Runs `fn` holding the container's cross-process lock: every verb that changes a container
   * takes it, then re-reads the record and the runtime's truth, acts and saves before releasing.
   * Re-entrant along one call chain; released if this process dies.
   */
  withContainerLock<T>(id: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
    return this.deps.locks.with(id, fn, opts);
  }

  /** Makes sure the store's health supervisor runs (after starting a container with a healthcheck). */
  async ensureHealthSupervisor(): Promise<void> {
    const launcher = this.deps.healthSupervisor;
    if (!launcher || this.hostsHealthSupervisor) return;
    await bestEffort("starting the health supervisor", ensureSupervisor(this, launcher));
  }

  /**
   * Keeps a container's log files as its LogConfig says (log-files.ts): json-file lines converted
   * from conmon's output, rotation of a k8s-file that keeps rotated files.
   */
  async maintainLog(rec: ContainerRecord, running: boolean): Promise<void> {
    const deps = { driver: this.driver, locks: this.deps.locks };
    if (rec.hostConfig.LogConfig?.Type === "json-file")
      await convertJsonLog(deps, rec, { running, imageName: rec.imageRef });
    else if (running && logNeedsSupervisor(rec.hostConfig.LogConfig)) await rotateK8sLog(deps, rec);
  }

  /**
   * Records a healthcheck probe's result, under the container's lock, if the container still
   * runs the process the probe was started for; a change of status is a `health_status` event.
   */
  async recordProbe(
    id: string,
    o: { startedAt: string; result: HealthcheckResult; plan: ProbePlan; resultStartMs: number },
  ): Promise<void> {
    await this.withContainerLock(id, async () => {
      const cur = this.meta.get(id);
      if (!cur?.health || cur.startedAt !== o.startedAt) return;
      if (cur.status !== "running" && cur.status !== "paused") return;
      const next = applyProbeResult(cur.health, o.result, {
        plan: o.plan,
        startedAtMs: Date.parse(cur.startedAt),
        resultStartMs: o.resultStartMs,
      });
      this.deps.db.write(() => {
        this.meta.update(id, { health: next });
        if (next.Status !== cur.health?.Status) this.emit(cur, `health_status: ${next.Status}`);
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Lookup

  /** A container by full ID, name (with or without "/"), or unique ID prefix. */
  find(ref: string): ContainerRecord | undefined {
    return findByIdNameOrPrefix(ref, ref.startsWith("/") ? ref.slice(1) : ref, {
      byId: (id) => this.meta.get(id),
      byName: (name) => this.meta.byName(name),
      idsByPrefix: (prefix) => this.meta.idsByPrefix(prefix),
      ambiguous: () => conflict(`multiple IDs found with provided prefix: ${ref}`),
    });
  }

  resolve(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec || rec.incomplete) throw notFound(`No such container: ${ref}`);
    return rec;
  }

  /**
   * The shape of every verb that changes a container: resolve `ref`, take the container's lock,
   * re-read its record and bring it in line with the runtime's truth (exit file, conmon, runc),
   * then act and save inside `fn`. A container removed or renamed away while this process waited
   * for the lock is "No such container", as if the verb had come after.
   */
  private async locked<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
    const first = this.resolve(ref);
    return this.withContainerLock(first.id, async () => {
      const rec = await this.sync(first.id);
      if (!rec || rec.incomplete || this.find(ref)?.id !== first.id)
        throw notFound(`No such container: ${ref}`);
      return fn(rec);
    });
  }

  /** Under the container's lock: its record after recording an exit the runtime reports. */
  private async sync(id: string): Promise<ContainerRecord | undefined> {
    const rec = this.meta.get(id);
    if (rec && RUNNING_STATES.has(rec.status)) await this.observeExit(rec);
    return this.meta.get(id);
  }

  /**
   * What a daemon does when it starts (`berth serve`): repair what killed processes left, then
   * start the containers whose restart policy asks for it — `always`, and `unless-stopped` unless
   * a user stopped it — as dockerd does after a reboot.
   */
  async startByRestartPolicy(): Promise<StartupReport> {
    await this.recovery.repair();
    await this.reconcile();
    const report: StartupReport = { started: [], failed: [] };
    for (const s of this.meta.states()) {
      if (s.incomplete || RUNNING_STATES.has(s.status)) continue;
      const rec = this.meta.get(s.id);
      const policy = rec?.hostConfig.RestartPolicy?.Name ?? "";
      if (!rec || !(policy === "always" || (policy === "unless-stopped" && !rec.stoppedByUser))) continue;
      try {
        await this.start(rec.id);
        report.started.push(rec.id);
      } catch (err) {
        report.failed.push({ id: rec.id, message: errorMessage(err) });
      }
    }
    return report;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading and recovery live in queries.ts and recovery.ts; these are their entry points.

  /** Cheap repair that every listing command runs first (recovery.ts has the policy). */
  async reconcile(): Promise<void> {
    await this.recovery.reconcile();
  }

  private observeExit(rec: ContainerRecord): Promise<boolean> {
    return this.recovery.observeExit(rec);
  }

  list(opts: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    return this.queries.list(opts);
  }

  inspect(ref: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    return this.queries.inspect(ref, opts);
  }

  logs(ref: string, opts: ContainerLogsOptions = {}): AsyncIterable<LogEntry> {
    return this.queries.logs(ref, opts);
  }

  top(ref: string, psArgs: readonly string[] = []): Promise<ContainerTopResponse> {
    return this.queries.top(ref, psArgs);
  }

  stats(ref: string): Promise<ContainerStatsResponse> {
    return this.queries.stats(ref);
  }

  statsStream(ref: string, opts: { signal?: AbortSignal } = {}): AsyncIterable<ContainerStatsResponse> {
    return this.queries.statsStream(ref, opts);
  }

  /** Bytes in the writable layer. */
  sizeRw(id: string): Promise<number> {
    return this.queries.sizeRw(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Create

  async create(
    req: ContainerCreateRequest,
    opts: ContainerCreateOptions = {},
  ): Promise<ContainerCreateResponse> {
    const { HostConfig: hostConfig = {}, NetworkingConfig: networking, ...config } = req;
    if (!config.Image) throw invalidArgument("No command specified: an image is required");
    if (opts.name !== undefined && !VALID_NAME.test(opts.name)) {
      throw invalidArgument(
        `Invalid container name (${opts.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
    const logConfig = resolveLogConfig(hostConfig.LogConfig);
    validateHealthcheck(config.Healthcheck);
    const image = this.deps.images.resolve(config.Image);
    const imageConfig = (await this.deps.images.config(image.id)).config ?? {};
    if (config.StopSignal) parseSignal(config.StopSignal);
    const merged = mergeConfig(config, imageConfig);
    if (merged.Healthcheck) merged.Healthcheck = normalizeHealthcheck(merged.Healthcheck);
    if (processArgs(merged).length === 0) throw invalidArgument("No command specified");
    const requested = hostConfig.NetworkMode || "default";
    const network = requested === "default" ? "bridge" : requested;
    const endpoints = networking?.EndpointsConfig ?? {};
    let joined: ContainerRecord | undefined;
    if (network.startsWith("container:")) {
      const other = network.slice("container:".length);
      joined = this.find(other);
      if (!joined) throw notFound(`No such container: ${other}`);
      if (config.Hostname) throw invalidArgument("conflicting options: hostname and the network mode");
    }
    const net = this.deps.network.planFor(network, endpoints);
    const endpoint = net ? (endpoints[requested] ?? endpoints[net.name] ?? endpoints[net.id] ?? {}) : {};
    const restart = hostConfig.RestartPolicy?.Name ?? "";
    if (!["", "no", "always", "unless-stopped", "on-failure"].includes(restart)) {
      throw invalidArgument(`invalid restart policy '${restart}'`);
    }
    if (hostConfig.AutoRemove && restart && restart !== "no") {
      throw invalidArgument("Conflicting options: --restart and --rm");
    }
    const plan = planMounts(hostConfig, Object.keys(merged.Volumes ?? {}));

    const id = randomBytes(32).toString("hex");
    // Held while the record is incomplete: recovery removes only a dead create's records.
    return this.withContainerLock(id, async () => {
      // As Docker: the host's name on the host network, the other container's name and domain
      // when sharing its network namespace, else the short ID.
      if (joined) {
        merged.Hostname = joined.config.Hostname ?? joined.id.slice(0, 12);
        if (joined.config.Domainname) merged.Domainname = joined.config.Domainname;
      }
      merged.Hostname ||= network === "host" ? hostHostname() : id.slice(0, 12);
      const finalHost = { ...hostConfig, NetworkMode: network, LogConfig: logConfig };
      this.insertCreated(
        opts.name,
        {
          id,
          imageId: image.id,
          imageRef: config.Image as string,
          created: this.now(),
          config: merged,
          hostConfig: finalHost,
          mounts: [],
          labels: merged.Labels ?? {},
          status: "created",
          pid: 0,
          exitCode: 0,
          error: "",
          oomKilled: false,
          startedAt: ZERO_TIME,
          finishedAt: ZERO_TIME,
          restartCount: 0,
          stoppedByUser: false,
        },
        image.layers.map((l) => l.chainId),
      );
      try {
        if (net) this.deps.db.write(() => this.deps.network.addEndpoint(id, net, endpoint));
        await this.driver.prepare(id);
        const mounts = await this.createMounts(id, plan);
        this.deps.db.write(() => {
          this.meta.markComplete(id, mounts);
          const done = this.meta.get(id);
          if (done) this.emit(done, "create");
        });
      } catch (err) {
        await bestEffort(`removing half-created container ${id}`, this.destroy(this.meta.get(id)));
        throw err;
      }
      return { Id: id, Warnings: [] };
    });
  }

  /**
   * Inserts a new (incomplete) record under `wanted` — a conflict when that name is taken — or,
   * without one, under the first free generated name; then records the image layers it uses.
   */
  private insertCreated(
    wanted: string | undefined,
    rec: Omit<ContainerRecord, "incomplete" | "health" | "name">,
    layers: string[],
  ): void {
    const name = wanted?.replace(/^\//, "");
    for (let attempt = 0; ; attempt++) {
      const candidate = name ?? generateName(attempt);
      if (this.deps.db.write(() => this.meta.insert({ ...rec, name: candidate }))) {
        this.deps.db.write(() => this.meta.setLayers(rec.id, layers));
        return;
      }
      if (wanted !== undefined) {
        const holder = this.meta.byName(candidate);
        throw conflict(
          `Conflict. The container name "/${candidate}" is already in use by container "${holder?.id ?? "?"}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      if (attempt > 10) throw internal("cannot find a free container name");
    }
  }

  /** Makes what each planned mount needs (a volume, a missing bind source) and its MountPoint. */
  private async createMounts(id: string, plan: readonly PlannedMount[]): Promise<MountPoint[]> {
    const mounts: MountPoint[] = [];
    for (const m of plan) {
      if (m.type === "volume") {
        const vol = await this.deps.volumes.create(m.source ? { Name: m.source } : {}, {
          anonymous: !m.source,
        });
        this.deps.db.write(() => this.deps.volumeMeta.attach(id, vol.Name, m.destination));
        mounts.push({
          Type: "volume",
          Name: vol.Name,
          Source: vol.Mountpoint,
          Destination: m.destination,
          Driver: "local",
          Mode: m.mode,
          RW: !m.readOnly,
          Propagation: "",
        });
      } else if (m.type === "bind") {
        if (!(await statIfExists(m.source))) {
          if (m.mustExist) {
            throw invalidArgument(
              `invalid mount config for type "bind": bind source path does not exist: ${m.source}`,
            );
          }
          await mkdir(m.source, { recursive: true });
        }
        mounts.push({
          Type: "bind",
          Source: m.source,
          Destination: m.destination,
          Mode: m.mode,
          RW: !m.readOnly,
          Propagation: "rprivate",
        });
      } else {
        mounts.push({
          Type: "tmpfs",
          Source: "",
          Destination: m.destination,
          Mode: (m.tmpfsOptions ?? []).join(","),
          RW: !m.readOnly,
          Propagation: "",
        });
      }
    }
    return mounts;
  }

  // ---------------------------------------------------------------------------------------------
  // Start

  /** Starts a container; one that another process started meanwhile is left running (no error). */
  async start(ref: string, opts: StartOptions = {}): Promise<AttachSession | undefined> {
    return this.locked(ref, async (cur) => {
      if (cur.status === "paused") throw conflict(`cannot start a paused container, try unpause instead`);
      if (cur.status === "running") return undefined;
      if (cur.status === "restarting") {
        // A restart policy's back-off: start it now, as Docker's start does.
        this.deps.db.write(() => this.meta.update(cur.id, { status: "exited" }));
      }
      return this.startRecord(this.resolve(cur.id), opts);
    });
  }

  private async startRecord(rec: ContainerRecord, opts: StartOptions): Promise<AttachSession | undefined> {
    // The rootfs's mount and the network's attach (on a bridge, the CNI plugins: the longest step
    // of a start) are independent of each other: both at once. The mount uses the container's own
    // record of its layers: it outlives its image (rmi -f).
    const [mounted, network] = await Promise.allSettled([
      this.driver.mountRootfs(rec.id, this.layersOf(rec.id)),
      this.attachNetwork(rec),
    ]);
    if (mounted.status === "rejected") {
      await bestEffort(
        `detaching the network of container ${rec.id} after a failed mount`,
        this.deps.network.detach(rec.id),
      );
      throw mounted.reason;
    }
    const rootfs = mounted.value;
    try {
      if (network.status === "rejected") throw network.reason;
      const { attachment, netns, shared } = network.value;
      await refuseSymlinkedSystemPaths(rootfs);
      const mounts = await this.startMounts(rec, rootfs);
      const hostsFiles = shared ?? (await this.writeHostsFiles(rec, attachment));
      const spec = await this.deps.buildSpec({
        rec,
        rootfs,
        mounts,
        hostsFiles,
        ...(netns ? { netns } : {}),
      });
      const terminal = !!rec.config.Tty;
      // A restart policy is the exit command's to follow (with its back-off), never a client's.
      const restartPolicy = rec.hostConfig.RestartPolicy?.Name ?? "";
      const holdExit = !!opts.foreground && (restartPolicy === "" || restartPolicy === "no");
      const pid = await this.driver.createProcess(rec.id, spec, {
        name: rec.name,
        terminal,
        stdin: !!rec.config.OpenStdin,
        // As Docker: a TTY's stdin is never closed by a client going away (detach keys, then
        // attach again); without one, StdinOnce closes it when the attached client ends.
        leaveStdinOpen: terminal || !rec.config.StdinOnce,
        ...logSettings(rec.hostConfig.LogConfig),
        ...(holdExit ? { exitDelay: FOREGROUND_EXIT_DELAY_S } : {}),
      });
      if (holdExit) {
        const monitor = await this.driver.monitorOf(rec.id);
        if (monitor) this.heldExits.set(rec.id, monitor);
      }
      const attached = opts.attach ? await this.driver.attach(rec.id, opts.attach) : undefined;
      if (opts.attach) this.emit(rec, "attach");
      await this.driver.startProcess(rec.id);
      const probe = probePlan(rec.config);
      this.deps.db.write(() => {
        this.meta.update(rec.id, {
          ...(probe ? { health: healthOnStart(rec.health) } : {}),
          status: "running",
          pid,
          exitCode: 0,
          error: "",
          oomKilled: false,
          startedAt: rfc3339Nano(this.now()),
          finishedAt: ZERO_TIME,
          stoppedByUser: false,
        });
        emitVolumeEvents(this.deps.images.events, rec, "mount");
        this.emit(rec, "start");
      });
      if (probe || logNeedsSupervisor(rec.hostConfig.LogConfig)) await this.ensureHealthSupervisor();
      return attached;
    } catch (err) {
      this.deps.db.write(() =>
        this.meta.update(rec.id, {
          status: rec.startedAt === ZERO_TIME ? "created" : "exited",
          error: errorMessage(err),
          exitCode: err instanceof CommandInvocationError ? err.exitCode : 128,
        }),
      );
      await Promise.all([
        bestEffort(
          `detaching the network of container ${rec.id} after a failed start`,
          this.deps.network.detach(rec.id),
        ),
        bestEffort(
          `releasing the runtime state of container ${rec.id} after a failed start`,
          this.driver.release(rec.id),
        ),
      ]);
      await this.cancelHeldExit(rec.id);
      throw err;
    }
  }

  /**
   * The container's mounts for its spec: binds and tmpfs as recorded; a volume is first filled
   * from the image's content at its destination unless `nocopy` was asked for.
   */
  private async startMounts(rec: ContainerRecord, rootfs: string): Promise<StartContext["mounts"][number][]> {
    const mounts: StartContext["mounts"][number][] = [];
    for (const m of rec.mounts) {
      if (m.Type === "volume" && m.Name) {
        const plan = rec.hostConfig.Mounts?.find((x) => x.Target === m.Destination);
        if (!plan?.VolumeOptions?.NoCopy && !m.Mode.split(",").includes("nocopy")) {
          await this.deps.volumes.populateFromImage(m.Name, join(rootfs, m.Destination));
        }
      }
      if (m.Type === "tmpfs") {
        mounts.push({
          destination: m.Destination,
          type: "tmpfs",
          source: "tmpfs",
          options: [...(m.Mode ? m.Mode.split(",") : []), ...(m.RW ? [] : ["ro"])],
        });
      } else {
        mounts.push({
          destination: m.Destination,
          type: "bind",
          source: m.Source,
          options: ["rbind", m.RW ? "rw" : "ro"],
        });
      }
    }
    return mounts;
  }

  /**
   * The container's network namespace: attached to its networks (bridge, user networks), or
   * another container's (`container:ID`, whose files it shares), or none of berth's making.
   */
  private async attachNetwork(rec: ContainerRecord): Promise<{
    attachment?: Attachment;
    netns?: string;
    shared?: StartContext["hostsFiles"];
  }> {
    const mode = rec.hostConfig.NetworkMode ?? "none";
    if (mode.startsWith("container:")) {
      const ref = mode.slice("container:".length);
      const other = this.find(ref);
      if (!other || other.incomplete) throw notFound(`No such container: ${ref}`);
      // Only to bring its record up to date: the record is checked below either way.
      await bestEffort(`reading the exit of container ${other.id}`, this.observeExit(other));
      const cur = this.meta.get(other.id);
      if (cur?.status !== "running")
        throw conflict(`cannot join network of a non running container: ${other.id}`);
      const attached = this.deps.network.endpointsOf(cur.id).some((e) => e.state === "attached");
      const dir = this.driver.dir(cur.id);
      return {
        netns: attached ? this.deps.network.netnsPath(cur.id) : `/proc/${cur.pid}/ns/net`,
        shared: {
          hostname: join(dir, "hostname"),
          hosts: join(dir, "hosts"),
          resolvConf: join(dir, "resolv.conf"),
        },
      };
    }
    if (!isNetworkName(mode)) return {};
    const attachment = await this.deps.network.attach(rec);
    if (!attachment) return {};
    return { attachment, netns: attachment.netnsPath };
  }

  /** Connects a container to a network (`network connect`); attached at once when it runs. */
  async connectNetwork(netRef: string, ref: string, endpoint: EndpointSettings = {}): Promise<void> {
    const net = this.deps.network.resolve(netRef);
    await this.locked(ref, async (rec) => {
      const mode = rec.hostConfig.NetworkMode ?? "none";
      if (net.driver === "host" || mode === "host")
        throw invalidArgument(
          "container cannot be disconnected from host network or connected to host network",
        );
      if (net.driver === "null" || mode === "none" || mode.startsWith("container:"))
        throw invalidArgument(
          "container sharing network namespace with another container or host cannot be connected to any other network",
        );
      const added = this.deps.db.write(() => this.deps.network.addEndpoint(rec.id, net, endpoint));
      if (!added) throw conflict(`endpoint with name ${rec.name} already exists in network ${net.name}`);
      if (rec.status === "running" || rec.status === "paused") {
        try {
          await this.deps.network.attachOne(rec, net);
        } catch (err) {
          this.deps.db.write(() => this.deps.network.meta.deleteEndpoint(rec.id, net.id));
          throw err;
        }
      }
    });
  }

  /** Disconnects a container from a network (`network disconnect`). */
  async disconnectNetwork(netRef: string, ref: string): Promise<void> {
    const net = this.deps.network.resolve(netRef);
    await this.locked(ref, async (rec) => {
      if (net.driver === "host")
        throw invalidArgument(
          "container cannot be disconnected from host network or connected to host network",
        );
      const ep = this.deps.network.endpointsOf(rec.id).find((e) => e.networkId === net.id);
      if (!ep) throw invalidArgument(`container ${rec.id} is not connected to network ${net.name}`);
      await this.deps.network.detachOne(rec.id, net.id);
      this.deps.db.write(() => this.deps.network.meta.deleteEndpoint(rec.id, net.id));
    });
  }

  /**
   * /etc/hostname, /etc/hosts and /etc/resolv.conf for the container, as Docker writes them: made
   * again at every start, so replaced without fsync (sys/fs.ts writeFileReplace).
   */
  private async writeHostsFiles(
    rec: ContainerRecord,
    attachment?: Attachment,
  ): Promise<StartContext["hostsFiles"]> {
    const dir = this.driver.dir(rec.id);
    const hostMode = rec.hostConfig.NetworkMode === "host";
    const hostname = rec.config.Hostname ?? rec.id.slice(0, 12);
    const paths = {
      hostname: join(dir, "hostname"),
      hosts: join(dir, "hosts"),
      resolvConf: join(dir, "resolv.conf"),
    };
    const hostResolv = (await readTextIfExists("/etc/resolv.conf")) ?? "";
    const extraHosts = rec.hostConfig.ExtraHosts ?? [];
    const hostGateway = this.deps.network.defaultGateway();
    if (hostMode) {
      // As Docker: the host's own files, with --add-host entries appended to its hosts.
      const hostHosts = (await readTextIfExists("/etc/hosts")) ?? "";
      const extra = hostsFile({ hostname, ip: "", extraHosts, hostGateway }).split("\n").slice(6).join("\n");
      await writeFileReplace(paths.hostname, `${hostname}\n`);
      await writeFileReplace(paths.hosts, `${hostHosts.trimEnd()}\n${extra}`.replace(/\n+$/, "\n"));
      await writeFileReplace(paths.resolvConf, hostResolv.endsWith("\n") ? hostResolv : `${hostResolv}\n`);
      return paths;
    }
    await writeFileReplace(paths.hostname, `${hostname}\n`);
    await writeFileReplace(
      paths.hosts,
      hostsFile({
        hostname,
        ...(rec.config.Domainname ? { domainname: rec.config.Domainname } : {}),
        ip: attachment?.ip ?? "",
        extraHosts,
        hostGateway,
      }),
    );
    await writeFileReplace(
      paths.resolvConf,
      resolvConf({
        host: hostResolv,
        ...(attachment && attachment.nameservers.length > 0 ? { nameservers: attachment.nameservers } : {}),
        dns: rec.hostConfig.Dns ?? [],
        dnsSearch: rec.hostConfig.DnsSearch ?? [],
        dnsOptions: rec.hostConfig.DnsOptions ?? [],
      }),
    );
    return paths;
  }

  // ---------------------------------------------------------------------------------------------
  // Exit, stop, kill, wait

  /**
   * What conmon's exit command runs when a container's process ended: record the exit, release
   * the runtime state, then remove (`--rm`) or restart (restart policy) as Docker's daemon would.
   */
  async cleanup(id: string): Promise<void> {
    if (!this.meta.get(id)) return;
    // Under the lock: record the exit, then apply --rm or decide a restart. The back-off is
    // waited for outside it, so stop and rm can act meanwhile.
    const delay = await this.withContainerLock(id, async () => {
      const after = await this.sync(id);
      // Gone, or a newer process runs (started after the one whose exit this is), or a restart
      // is already pending: nothing of this exit is left to handle.
      if (!after || after.incomplete || RUNNING_STATES.has(after.status)) return undefined;
      if (after.hostConfig.AutoRemove) {
        await this.removeLocked(after, {
          force: true,
          volumes: true,
          keepExitFile: !!after.config.AttachStdout,
        });
        return undefined;
      }
      const policy = after.hostConfig.RestartPolicy;
      const name = policy?.Name ?? "";
      const restart =
        !after.stoppedByUser &&
        (name === "always" ||
          name === "unless-stopped" ||
          (name === "on-failure" &&
            after.exitCode !== 0 &&
            (!policy?.MaximumRetryCount || after.restartCount < policy.MaximumRetryCount)));
      if (!restart) return undefined;
      this.deps.db.write(() =>
        this.meta.update(id, { status: "restarting", restartCount: after.restartCount + 1 }),
      );
      // Docker's back-off: 100 ms doubling per consecutive restart, at most 1 minute.
      return Math.min(60_000, 100 * 2 ** Math.min(after.restartCount, 10));
    });
    // The last of a json-file container's output, converted once the exit is recorded.
    const exited = this.meta.get(id);
    if (exited?.hostConfig.LogConfig?.Type === "json-file")
      await bestEffort(`converting the log of container ${id}`, this.maintainLog(exited, false));
    if (delay === undefined) return;
    await sleep(delay);
    await this.withContainerLock(id, async () => {
      const again = this.meta.get(id);
      // Started, stopped or removed by someone else during the back-off.
      if (again?.status !== "restarting") return;
      if (again.stoppedByUser) {
        this.deps.db.write(() => this.meta.update(id, { status: "exited" }));
        return;
      }
      await this.startRecord(again, {}).catch((err: unknown) => {
        this.deps.db.write(() => this.meta.update(id, { status: "exited", error: errorMessage(err) }));
      });
    });
  }

  /**
   * The exit work of a container this process started in the foreground (`start` with
   * `foreground`), done as soon as its process exited instead of by a second berth process:
   * conmon's exit command, held back meanwhile, would only do it again and contend with this one
   * for the CPU, the container's lock and the network's host state. Runs `cleanup` (record the
   * exit, `--rm`, the log), then cancels the held exit command; in that order, so that a client
   * killed before the end leaves the exit command to do the work after its delay. False when
   * this process holds no exit command of the container back (then the exit command does the
   * work, as for any other container).
   */
  async foregroundExit(id: string): Promise<boolean> {
    if (!this.heldExits.has(id)) return false;
    await this.cleanup(id);
    await this.cancelHeldExit(id);
    return true;
  }

  private async cancelHeldExit(id: string): Promise<void> {
    const monitor = this.heldExits.get(id);
    if (!monitor) return;
    this.heldExits.delete(id);
    await this.driver.cancelExitCommand(id, monitor);
  }

  /**
   * Waits until the container's process has exited and returns its exit code. A container that
   * `--rm` already removed is answered from conmon's exit file (by full ID).
   */
  async wait(ref: string, opts: { signal?: AbortSignal; pollMs?: number } = {}): Promise<number> {
    const rec = this.find(ref);
    if (!rec || rec.incomplete) {
      const exit = /^[a-f0-9]{64}$/.test(ref) ? await this.driver.exitStatus(ref) : undefined;
      if (exit) return exit.code;
      throw notFound(`No such container: ${ref}`);
    }
    // Polled quickly at first: a foreground client asks as soon as the container's output ended,
    // which is a moment before conmon has reaped the process and written the exit file.
    let pause = opts.pollMs ?? 5;
    for (;;) {
      const cur = this.meta.get(rec.id);
      if (!cur) {
        const exit = await this.driver.exitStatus(rec.id);
        return exit?.code ?? rec.exitCode;
      }
      if (!RUNNING_STATES.has(cur.status)) return cur.exitCode;
      if (await this.observeExit(cur)) continue;
      await sleep(pause, opts.signal);
      pause = opts.pollMs ?? Math.min(50, pause * 2);
    }
  }

  async kill(ref: string, signal = "KILL"): Promise<void> {
    const sig = normalizeSignal(signal);
    await this.locked(ref, async (cur) => {
      if (cur.status !== "running" && cur.status !== "paused") {
        throw conflict(`Cannot kill container: ${ref}: container ${cur.id} is not running`);
      }
      this.deps.db.write(() => this.meta.update(cur.id, { stoppedByUser: true }));
      // Recorded before the signal goes, so that it precedes the die its exit command records.
      this.emit(cur, "kill", { signal: signalNumber(sig) });
      try {
        await this.driver.kill(cur.id, sig);
      } catch (err) {
        // Gone meanwhile (its process ended, conmon has not written the exit file yet): Docker's
        // answer for a container that is not running.
        const gone = await bestEffort(`checking whether container ${cur.id} still runs`, async () => {
          const state = await this.driver.state(cur.id);
          return !state || state.status === "stopped" || (await this.observeExit(cur));
        });
        if (gone) throw conflict(`Cannot kill container: ${ref}: container ${cur.id} is not running`);
        const why = err instanceof RuncCommandError ? err.runtimeMessage : errorMessage(err);
        throw failedPrecondition(`Cannot kill container: ${ref}: ${why}`, err);
      }
    });
  }

  /** Stops a running container: its stop signal, then SIGKILL after the timeout (seconds). */
  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    if (opts.signal !== undefined) normalizeSignal(opts.signal);
    await this.locked(ref, (cur) => this.stopLocked(cur, opts));
  }

  private async stopLocked(cur: ContainerRecord, opts: { timeout?: number; signal?: string }): Promise<void> {
    if (!RUNNING_STATES.has(cur.status)) return;
    if (cur.status === "restarting") {
      // In a restart policy's back-off: no process; it stays stopped.
      this.deps.db.write(() => this.meta.update(cur.id, { status: "exited", stoppedByUser: true }));
      return;
    }
    this.deps.db.write(() => this.meta.update(cur.id, { stoppedByUser: true }));
    if (cur.status === "paused")
      await bestEffort(`resuming paused container ${cur.id} to stop it`, this.driver.resume(cur.id));
    const timeout = opts.timeout ?? cur.config.StopTimeout ?? 10;
    const signal = normalizeSignal(opts.signal ?? cur.config.StopSignal ?? "TERM");
    if (timeout !== 0) {
      this.emit(cur, "kill", { signal: signalNumber(signal) });
      await bestEffort(`sending ${signal} to container ${cur.id}`, this.driver.kill(cur.id, signal));
      if (await this.waitExit(cur.id, timeout < 0 ? Number.POSITIVE_INFINITY : timeout * 1000)) {
        this.emit(cur, "stop");
        return;
      }
    }
    this.emit(cur, "kill", { signal: signalNumber("KILL") });
    await bestEffort(`sending KILL to container ${cur.id}`, this.driver.kill(cur.id, "KILL", true));
    if (!(await this.waitExit(cur.id, 10_000)))
      throw internal(`container ${cur.id} did not stop after SIGKILL`);
    this.emit(cur, "stop");
  }

  /** Under the container's lock: waits until its exit is recorded; false after `ms`. */
  private async waitExit(id: string, ms: number): Promise<boolean> {
    const deadline = this.now() + ms;
    for (;;) {
      const rec = this.meta.get(id);
      if (!rec || !RUNNING_STATES.has(rec.status)) return true;
      if (await this.observeExit(rec)) return true;
      if (this.now() >= deadline) return false;
      await sleep(25);
    }
  }

  /** Stop then start, as one operation under the container's lock. */
  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.locked(ref, async (cur) => {
      await this.stopLocked(cur, opts);
      const stopped = this.resolve(cur.id);
      await this.startRecord(stopped, {});
      this.emit(this.resolve(cur.id), "restart");
    });
  }

  async pause(ref: string): Promise<void> {
    await this.freeze(ref, "pause");
  }

  async unpause(ref: string): Promise<void> {
    await this.freeze(ref, "unpause");
  }

  /** pause (running → paused) or unpause (paused → running): the runtime's, then the record's. */
  private async freeze(ref: string, verb: "pause" | "unpause"): Promise<void> {
    const [from, to] = verb === "pause" ? (["running", "paused"] as const) : (["paused", "running"] as const);
    await this.locked(ref, async (rec) => {
      if (rec.status !== from) throw conflict(`Container ${rec.id} is not ${from}`);
      if (verb === "pause") await this.driver.pause(rec.id);
      else await this.driver.resume(rec.id);
      this.deps.db.write(() => {
        this.meta.update(rec.id, { status: to });
        this.emit(rec, verb);
      });
    });
  }

  /**
   * `docker update`: new limits and restart policy, under the container's lock. A running (or
   * paused) container gets them through `runc update` first; only then is the record changed, so
   * a refused change leaves both as they were. A stopped container's record alone changes; its
   * next start builds its spec from the record.
   */
  async updateResources(ref: string, req: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    const found = this.resolve(ref);
    return this.withContainerLock(found.id, async () => {
      const rec = this.resolve(found.id);
      await bestEffort(`reading the exit of container ${rec.id}`, this.observeExit(rec));
      const cur = this.resolve(rec.id);

      let plan: ReturnType<typeof planUpdate>;
      try {
        plan = planUpdate(cur.hostConfig, req, updateHostFacts());
      } catch (err) {
        if (err instanceof UpdateConflict)
          throw conflict(`Cannot update container ${cur.id}: ${err.message}`, err);
        throw err;
      }
      const state = RUNNING_STATES.has(cur.status) ? await this.driver.state(cur.id) : undefined;
      if (plan.runcFlags.length > 0 && (state?.status === "running" || state?.status === "paused")) {
        try {
          await this.driver.update(cur.id, plan.runcFlags);
        } catch (err) {
          const why = err instanceof RuncCommandError ? err.runtimeMessage : errorMessage(err);
          throw failedPrecondition(`Cannot update container ${cur.id}: ${why}`, err);
        }
      }
      this.deps.db.write(() => this.meta.setHostConfig(cur.id, plan.hostConfig));
      return { Warnings: plan.warnings };
    });
  }

  /**
   * `container update --publish-add/--publish-rm`, under the container's lock: the new
   * PortBindings are checked, then a running container's forwarding changes at once (the network
   * service chooses and records host ports and replaces portmap's rules, and the HostConfig is
   * saved in its transaction); a stopped container's record alone changes, and its next start
   * publishes what it says.
   */
  async updatePorts(ref: string, req: ContainerPortsUpdate): Promise<void> {
    await this.locked(ref, async (rec) => {
      const mode = rec.hostConfig.NetworkMode ?? "default";
      if (mode === "host" || mode === "none" || mode.startsWith("container:"))
        throw invalidArgument(
          `conflicting options: port publishing and the container type network mode (${mode})`,
        );
      const running = RUNNING_STATES.has(rec.status);
      const published = running ? this.deps.network.meta.portsOf(rec.id) : [];
      const hostConfig = planPortsUpdate(rec.hostConfig, req, { name: rec.name, published });
      // Parsed as a start would parse it: a bad binding fails here, before anything changes.
      requestedPorts(rec.config, hostConfig);
      const save = () => this.meta.setHostConfig(rec.id, hostConfig);
      if (!running) {
        this.deps.db.write(save);
        return;
      }
      await this.deps.network.republish(
        { id: rec.id, name: rec.name, config: rec.config, hostConfig },
        { commit: save, rollback: () => this.meta.setHostConfig(rec.id, rec.hostConfig) },
      );
    });
  }

  async rename(ref: string, newName: string): Promise<void> {
    const name = newName.replace(/^\//, "");
    if (!VALID_NAME.test(name))
      throw invalidArgument(
        `Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    await this.locked(ref, async (rec) => {
      if (name === rec.name)
        throw invalidArgument(`Renaming a container with the same name as its current name`);
      // Name uniqueness is the database's: one transaction checks and takes the name.
      const ok = this.deps.db.write(() => {
        const renamed = this.meta.rename(rec.id, name);
        if (renamed) this.emit({ ...rec, name }, "rename", { oldName: `/${rec.name}` });
        return renamed;
      });
      if (!ok) {
        const holder = this.meta.byName(name);
        throw conflict(
          `Conflict. The container name "/${name}" is already in use by container "${holder?.id ?? "?"}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Remove

  /** Removes a container; when another process removed it first, "No such container". */
  async remove(
    ref: string,
    opts: { force?: boolean; volumes?: boolean; keepExitFile?: boolean } = {},
  ): Promise<void> {
    const rec = this.find(ref);
    if (!rec) throw notFound(`No such container: ${ref}`);
    await this.withContainerLock(rec.id, async () => {
      // Incomplete records too: a create that died half-way is removed like any other.
      if (this.find(ref)?.id !== rec.id) throw notFound(`No such container: ${ref}`);
      const cur = await this.sync(rec.id);
      if (!cur) throw notFound(`No such container: ${ref}`);
      await this.removeLocked(cur, opts);
    });
  }

  private async removeLocked(
    cur: ContainerRecord,
    opts: { force?: boolean; volumes?: boolean; keepExitFile?: boolean },
  ): Promise<void> {
    if (RUNNING_STATES.has(cur.status)) {
      if (!opts.force) {
        throw conflict(
          `cannot remove container "/${cur.name}": container is ${cur.status}: stop the container before removing or force remove`,
        );
      }
      this.deps.db.write(() => this.meta.update(cur.id, { stoppedByUser: true }));
      if (cur.status === "restarting") {
        this.deps.db.write(() => this.meta.update(cur.id, { status: "exited" }));
      } else {
        if (cur.status === "paused")
          await bestEffort(`resuming paused container ${cur.id} to remove it`, this.driver.resume(cur.id));
        this.emit(cur, "kill", { signal: signalNumber("KILL") });
        await bestEffort(
          `sending KILL to container ${cur.id} to remove it`,
          this.driver.kill(cur.id, "KILL", true),
        );
        await this.waitExit(cur.id, 10_000);
      }
    }
    await this.destroy(this.meta.get(cur.id), {
      volumes: opts.volumes ?? false,
      keepExitFile: opts.keepExitFile ?? false,
    });
  }

  /**
   * Deletes a container's runtime state, directory, record and (with `volumes`) anonymous volumes.
   * Under the container's lock.
   */
  async destroy(
    rec: ContainerRecord | undefined,
    opts: { volumes?: boolean; keepExitFile?: boolean } = {},
  ): Promise<void> {
    if (!rec) return;
    const vols = this.deps.volumeMeta.volumesOf(rec.id);
    // The network's teardown and the runtime's are independent (the namespace is berth's file,
    // not runc's): both at once, and both finished before anything else happens.
    const [, runtime] = await Promise.allSettled([
      bestEffort(`detaching the network of removed container ${rec.id}`, this.deps.network.detach(rec.id)),
      this.driver.destroy(rec.id, { keepExitFile: !!opts.keepExitFile }),
    ]);
    if (runtime.status === "rejected") throw runtime.reason;
    this.deps.db.write(() => {
      this.deps.volumeMeta.detach(rec.id);
      if (this.meta.get(rec.id) && !rec.incomplete) this.emit(rec, "destroy");
      this.meta.delete(rec.id);
    });
    if (opts.volumes) {
      for (const v of vols) {
        const vol = this.deps.volumes.get(v.volumeName);
        if (vol?.anonymous)
          await bestEffort(
            `removing anonymous volume ${v.volumeName}`,
            this.deps.volumes.remove(v.volumeName),
          );
      }
    }
  }

  async prune(opts: { filters?: Filters } = {}): Promise<ContainersPruneResponse> {
    const filters = opts.filters ?? {};
    for (const k of Object.keys(filters))
      if (k !== "until" && k !== "label" && k !== "label!") throw invalidArgument(`invalid filter '${k}'`);
    const untilValues = filters.until ?? [];
    const until =
      untilValues.length > 0 ? Math.min(...untilValues.map((v) => parseTimestamp(v, this.now()))) : undefined;
    const labels = filters.label ?? [];
    const notLabels = filters["label!"] ?? [];
    await this.reconcile();
    const deleted: string[] = [];
    let space = 0;
    for (const rec of this.meta.list()) {
      if (rec.incomplete || RUNNING_STATES.has(rec.status)) continue;
      if (until !== undefined && rec.created >= until) continue;
      if (labels.length > 0 && !matchLabels(rec.labels, labels)) continue;
      if (notLabels.length > 0 && !matchLabels(rec.labels, notLabels, true)) continue;
      // A container another process is acting on (starting it, say) is not unused: skip it.
      const r = await this.deps.locks.tryWith(rec.id, async () => {
        const cur = await this.sync(rec.id);
        if (!cur || cur.incomplete || RUNNING_STATES.has(cur.status)) return 0;
        const size = await this.sizeRw(cur.id);
        await this.destroy(cur);
        deleted.push(cur.id);
        return size;
      });
      if (r.acquired) space += r.value;
    }
    this.deps.images.events.emit("container", "prune", { ID: "", Attributes: { reclaimed: String(space) } });
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }

  /** Attaches to a running container's stdio. */
  async attach(ref: string, handlers: AttachHandlers): Promise<AttachSession> {
    const rec = this.resolve(ref);
    await this.observeExit(rec);
    const cur = this.resolve(rec.id);
    if (cur.status !== "running") throw conflict("You cannot attach to a stopped container, start it first");
    const session = await this.driver.attach(cur.id, handlers);
    this.emit(cur, "attach");
    return session;
  }

  /** The layers (chainIDs, bottom first) of a container's root filesystem, as recorded at create. */
  layersOf(id: string): Digest[] {
    return this.meta.layersOf(id).map((c) => parseDigest(c));
  }

  /** Containers using an image (for rmi). */
  containersUsing(imageId: string): Array<{ id: string; running: boolean }> {
    return this.meta.usingImage(imageId).map((r) => ({ id: r.id, running: RUNNING_STATES.has(r.status) }));
  }

  update(id: string, change: ContainerStateUpdate): void {
    this.deps.db.write(() => this.meta.update(id, change));
  }
}

/** What `update` needs to know of the host's cgroups (read once per process). */
let updateFactsSeen: UpdateHostFacts | undefined;
function updateHostFacts(): UpdateHostFacts {
  if (updateFactsSeen) return updateFactsSeen;
  const v2 = cgroupVersion() === 2;
  const has = (p: string) => existsSync(`/sys/fs/cgroup/${p}`);
  const read = (p: string) => {
    try {
      return readFileSync(`/sys/fs/cgroup/${p}`, "utf8").trim();
    } catch (err) {
      // No such controller file on this host.
      if (errnoCode(err) === "ENOENT") return "";
      throw err;
    }
  };
  updateFactsSeen = {
    cpus: availableParallelism(),
    mems: (v2 ? read("cpuset.mems.effective") : read("cpuset/cpuset.mems")) || "0",
    swapLimit: v2 ? true : has("memory/memory.memsw.limit_in_bytes"),
    blkioWeight: v2
      ? read("cgroup.controllers").split(/\s+/).includes("io")
      : has("blkio/blkio.weight") || has("blkio/blkio.bfq.weight"),
    cpuRealtime: !v2 && has("cpu/cpu.rt_runtime_us"),
  };
  return updateFactsSeen;
}

/** The cgroup berth puts a container in (relative to each hierarchy's root). */
export function cgroupPathOf(id: string): string {
  return `/berth/${id}`;
}

/** "SIGTERM", "TERM", "15" → the signal's number as runc kill takes it; Docker's error otherwise. */
export function normalizeSignal(s: string): string {
  return String(parseSignal(s));
}

/** Refuses a root filesystem that plants symlinks where runc mounts /proc, /sys and /dev. */
async function refuseSymlinkedSystemPaths(rootfs: string): Promise<void> {
  for (const p of ["proc", "sys", "dev", "dev/pts", "dev/shm", "dev/null", "dev/mqueue"]) {
    const isLink = (await lstatIfExists(join(rootfs, p)))?.isSymbolicLink() ?? false;
    if (isLink) throw failedPrecondition(`refusing to start a container whose image has /${p} as a symlink`);
  }
}

/** conmon's log settings for a container: none writes nothing; k8s-file starts afresh at max-size. */
function logSettings(cfg: { Type: string; Config: Record<string, string> } | undefined): {
  log: boolean;
  logSizeMax?: number;
} {
  const s = conmonLogSettings(cfg);
  return s.sizeMax === undefined ? { log: s.log } : { log: s.log, logSizeMax: s.sizeMax };
}
