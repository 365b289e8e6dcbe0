/**
 * What reads a container without changing it — `ps` (list and its filters), `inspect`, `logs`,
 * `top`, `stats` — and so takes no lock. A read that finds an exit the record does not show yet
 * hands it to recovery.ts, which records it only if no other process holds the container.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { conflict, invalidArgument, notImplemented } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import type {
  ContainerInspect,
  ContainerListOptions,
  ContainerLogsOptions,
  ContainerStatsResponse,
  ContainerSummary,
  ContainerTopResponse,
  LogEntry,
  Port,
} from "../engine/types.js";
import type { ContainerRecord } from "../metadata/containers.js";
import { readLogs } from "../runtime/logs.js";
import { directorySize } from "../volumes/service.js";
import { inspectHostConfig } from "./host-config.js";
import { maxLogFiles } from "./log-config.js";
import { currentLogPath, logFileList } from "./log-files.js";
import { processArgs } from "./merge.js";
import { cgroupPathOf, RUNNING_STATES } from "./service.js";
import { ContainerServicePart } from "./service-part.js";
import { containerStats, containerStatsStream, containerTop } from "./stats.js";
import { containerState, rfc3339Nano, statusText } from "./status.js";

export class ContainerQueries extends ContainerServicePart {
  private resolve(ref: string): ContainerRecord {
    return this.svc.resolve(ref);
  }
  private layersOf(id: string) {
    return this.svc.layersOf(id);
  }
  private observeExit(rec: ContainerRecord): Promise<boolean> {
    return this.svc.recovery.observeExit(rec);
  }
  private reconcile(): Promise<Map<string, ContainerRecord>> {
    return this.svc.recovery.reconcile();
  }

  async list(opts: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    const pending = await this.reconcile();
    const now = this.now();
    let recs = this.meta
      .list()
      .filter((r) => !r.incomplete)
      .map((r) => (RUNNING_STATES.has(r.status) ? (pending.get(r.id) ?? r) : r));
    if (!opts.all && !(opts.limit !== undefined && opts.limit > 0))
      recs = recs.filter((r) => RUNNING_STATES.has(r.status));
    recs = await this.applyFilters(recs, opts.filters ?? {});
    if (opts.limit !== undefined && opts.limit > 0) recs = recs.slice(0, opts.limit);
    const images = new Map<string, { size: number }>(
      this.deps.images.meta.listImages().map((i) => [i.id, i]),
    );
    const out: ContainerSummary[] = [];
    for (const r of recs) {
      const args = processArgs(r.config);
      const net = this.deps.network.networkSettings(r.id, RUNNING_STATES.has(r.status));
      const s: ContainerSummary = {
        Id: r.id,
        Names: [`/${r.name}`],
        Image: r.imageRef,
        ImageID: r.imageId,
        Command: args.join(" "),
        Created: Math.floor(r.created / 1000),
        // As Docker: a container that is not running shows no ports.
        Ports: RUNNING_STATES.has(r.status) ? summaryPorts(r.config.ExposedPorts ?? {}, net.published) : [],
        Labels: { ...r.labels },
        State: r.status,
        Status: statusText(r, now),
        HostConfig: { NetworkMode: r.hostConfig.NetworkMode ?? "none" },
        NetworkSettings: { Networks: net.networks },
        Mounts: [...r.mounts],
      };
      if (opts.size) {
        s.SizeRw = await this.sizeRw(r.id);
        s.SizeRootFs = s.SizeRw + (images.get(r.imageId)?.size ?? 0);
      }
      out.push(s);
    }
    return out;
  }

  private async applyFilters(
    recs: ContainerRecord[],
    filters: Readonly<Record<string, readonly string[]>>,
  ): Promise<ContainerRecord[]> {
    const allowed = [
      "ancestor",
      "status",
      "name",
      "id",
      "label",
      "exited",
      "before",
      "since",
      "volume",
      "health",
      "network",
      "is-task",
      "publish",
      "expose",
    ];
    for (const k of Object.keys(filters))
      if (!allowed.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const statuses = filters.status ?? [];
    for (const s of statuses) {
      if (!["created", "restarting", "running", "removing", "paused", "exited", "dead"].includes(s)) {
        throw invalidArgument(`invalid filter 'status=${s}'`);
      }
    }
    let out = recs;
    if (statuses.length) out = out.filter((r) => statuses.includes(r.status));
    const names = filters.name ?? [];
    if (names.length)
      out = out.filter((r) => names.some((n) => new RegExp(n.replace(/^\//, "")).test(r.name)));
    const ids = filters.id ?? [];
    if (ids.length) out = out.filter((r) => ids.some((i) => r.id.startsWith(i)));
    const labels = filters.label ?? [];
    if (labels.length) {
      out = out.filter((r) =>
        labels.every((l) => {
          const eq = l.indexOf("=");
          return eq < 0 ? Object.hasOwn(r.labels, l) : r.labels[l.slice(0, eq)] === l.slice(eq + 1);
        }),
      );
    }
    const exited = (filters.exited ?? []).map((e) => {
      if (!/^-?\d+$/.test(e)) throw invalidArgument(`invalid filter 'exited=${e}'`);
      return Number(e);
    });
    if (exited.length) out = out.filter((r) => r.status === "exited" && exited.includes(r.exitCode));
    const ancestors = filters.ancestor ?? [];
    if (ancestors.length) {
      const wanted = new Set<string>();
      for (const a of ancestors) {
        const img = this.deps.images.lookup(a)?.rec;
        if (!img) continue;
        wanted.add(img.id);
        // …and every image built on top of it (Docker matches descendants too).
        for (const d of this.descendants(img.id)) wanted.add(d);
      }
      out = out.filter((r) => wanted.has(r.imageId));
    }
    const before = filters.before ?? [];
    for (const b of before) {
      const ref = this.resolve(b);
      out = out.filter((r) => r.created < ref.created);
    }
    const sinceF = filters.since ?? [];
    for (const s of sinceF) {
      const ref = this.resolve(s);
      out = out.filter((r) => r.created > ref.created);
    }
    const networks = filters.network ?? [];
    if (networks.length) {
      out = out.filter((r) =>
        this.deps.network.endpointsOf(r.id).some((e) => {
          const n = this.deps.network.meta.getNetwork(e.networkId);
          return !!n && networks.some((v) => v === n.name || n.id.startsWith(v));
        }),
      );
    }
    out = this.byPorts(out, filters);
    // health=: the status of State.Health; "none" for a container without one.
    const health = filters.health ?? [];
    for (const h of health)
      if (!["starting", "healthy", "unhealthy", "none"].includes(h))
        throw invalidArgument(`Unrecognised filter value for health: ${h}`);
    if (health.length) out = out.filter((r) => health.includes(r.health?.Status ?? "none"));
    const vols = filters.volume ?? [];
    if (vols.length) {
      out = out.filter((r) =>
        r.mounts.some(
          (m) => vols.includes(m.Name ?? "") || vols.includes(m.Destination) || vols.includes(m.Source),
        ),
      );
    }
    return out;
  }

  /**
   * publish= matches a host port a running container publishes, expose= a container port it
   * exposes or publishes (Docker's PublicPort and PrivatePort): `PORT[/PROTO]` or
   * `FROM-TO[/PROTO]`, tcp when no protocol is given.
   */
  private byPorts(
    recs: ContainerRecord[],
    filters: Readonly<Record<string, readonly string[]>>,
  ): ContainerRecord[] {
    let out = recs;
    const publish = (filters.publish ?? []).map((v) => portFilter("publish", v));
    if (publish.length) {
      out = out.filter((r) =>
        this.deps.network.meta.portsOf(r.id).some((p) => publish.some((f) => f(p.hostPort, p.proto))),
      );
    }
    const expose = (filters.expose ?? []).map((v) => portFilter("expose", v));
    if (expose.length) {
      out = out.filter((r) => {
        const ports = [
          ...Object.keys(r.config.ExposedPorts ?? {}).map((k) => {
            const [n, proto = "tcp"] = k.split("/");
            return { port: Number(n), proto };
          }),
          ...this.deps.network.meta.portsOf(r.id).map((p) => ({ port: p.containerPort, proto: p.proto })),
        ];
        return ports.some((p) => expose.some((f) => f(p.port, p.proto)));
      });
    }
    return out;
  }

  private descendants(id: string): string[] {
    const out: string[] = [];
    const queue = [id];
    while (queue.length > 0) {
      const cur = queue.shift() as string;
      for (const child of this.deps.images.meta.childrenOf(cur)) {
        out.push(child);
        queue.push(child);
      }
    }
    return out;
  }

  /** Bytes in the writable layer. */
  async sizeRw(id: string): Promise<number> {
    // A measurement: a layer removed or changing under a racing process has none.
    return (
      (await bestEffort(`measuring the writable layer of ${id}`, directorySize(this.driver.upper(id)))) ?? 0
    );
  }

  async inspect(ref: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    const rec = (await this.svc.recovery.seen(this.resolve(ref))).record;
    const args = processArgs(rec.config);
    const image = this.deps.images.meta.getImage(rec.imageId);
    const dir = this.driver.dir(rec.id);
    const lower = [...this.layersOf(rec.id)].reverse().map((c) => this.deps.images.snapshots.fsPath(c));
    const out: ContainerInspect = {
      Id: rec.id,
      Created: rfc3339Nano(rec.created),
      Path: args[0] ?? "",
      Args: args.slice(1),
      State: containerState(rec),
      Image: rec.imageId,
      ResolvConfPath: join(dir, "resolv.conf"),
      HostnamePath: join(dir, "hostname"),
      HostsPath: join(dir, "hosts"),
      LogPath: currentLogPath(this.driver, rec),
      Name: `/${rec.name}`,
      RestartCount: rec.restartCount,
      Driver: "overlay",
      Platform: "linux",
      MountLabel: "",
      ProcessLabel: "",
      AppArmorProfile: "",
      ExecIDs: null,
      HostConfig: inspectHostConfig(rec.hostConfig, { cgroupVersion: cgroupVersion() }),
      GraphDriver: {
        Name: "overlay",
        Data: {
          LowerDir: lower.join(":"),
          MergedDir: this.driver.rootfs(rec.id),
          UpperDir: this.driver.upper(rec.id),
          WorkDir: join(dir, "work"),
        },
      },
      Mounts: [...rec.mounts],
      Config: { ...rec.config, Image: rec.imageRef },
      NetworkSettings: this.inspectNetworkSettings(rec),
    };
    if (opts.size) {
      out.SizeRw = await this.sizeRw(rec.id);
      out.SizeRootFs = out.SizeRw + (image?.size ?? 0);
    }
    return out;
  }

  private inspectNetworkSettings(rec: ContainerRecord): ContainerInspect["NetworkSettings"] {
    const running = RUNNING_STATES.has(rec.status);
    const { networks, ports } = this.deps.network.networkSettings(rec.id, running);
    const attached = running && this.deps.network.endpointsOf(rec.id).some((e) => e.state === "attached");
    if (running) {
      for (const k of Object.keys(rec.config.ExposedPorts ?? {})) if (!(k in ports)) ports[k] = null;
    }
    const bridge = networks.bridge;
    return {
      Bridge: "",
      SandboxID: attached ? rec.id : "",
      SandboxKey: attached ? this.deps.network.netnsPath(rec.id) : "",
      Ports: ports,
      HairpinMode: false,
      LinkLocalIPv6Address: "",
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: bridge?.EndpointID ?? "",
      Gateway: bridge?.Gateway ?? "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      IPAddress: bridge?.IPAddress ?? "",
      IPPrefixLen: bridge?.IPPrefixLen ?? 0,
      IPv6Gateway: "",
      MacAddress: bridge?.MacAddress ?? "",
      Networks: networks,
    };
  }

  /**
   * The container's log records, stdout and stderr apart (following while it runs). An unknown
   * container or a log that cannot be read is refused at the call, before any record is read, so
   * a server answers with the error instead of starting a stream.
   */
  logs(ref: string, opts: ContainerLogsOptions = {}): AsyncIterable<LogEntry> {
    const rec = this.resolve(ref);
    if (rec.hostConfig.LogConfig?.Type === "none") {
      throw notImplemented("configured logging driver does not support reading");
    }
    return this.readLogs(rec, opts);
  }

  private async *readLogs(rec: ContainerRecord, opts: ContainerLogsOptions): AsyncIterable<LogEntry> {
    const wantOut = opts.stdout ?? true;
    const wantErr = opts.stderr ?? true;
    const cfg = rec.hostConfig.LogConfig;
    const json = cfg?.Type === "json-file";
    const exited = async () => {
      const cur = this.meta.get(rec.id);
      if (!cur || !RUNNING_STATES.has(cur.status)) return true;
      return this.observeExit(cur);
    };
    // json-file: what conmon wrote is converted first (the supervisor does it once a second).
    const convert = async (running: boolean) => {
      const cur = this.meta.get(rec.id);
      if (json && cur) await this.svc.maintainLog(cur, running);
    };
    await convert(RUNNING_STATES.has(rec.status));
    const done = async () => {
      const ended = await exited();
      await convert(!ended);
      return ended;
    };
    const files = logFileList(currentLogPath(this.driver, rec), maxLogFiles(cfg));
    for await (const line of readLogs(files, {
      format: json ? "json-file" : "k8s-file",
      ...(opts.since !== undefined ? { since: opts.since * 1000 } : {}),
      ...(opts.until !== undefined ? { until: opts.until * 1000 } : {}),
      ...(opts.tail !== undefined && opts.tail >= 0 ? { tail: opts.tail } : {}),
      follow: opts.follow ?? false,
      done,
      ...(opts.signal ? { signal: opts.signal } : {}),
    })) {
      if ((line.stream === "stdout" && wantOut) || (line.stream === "stderr" && wantErr)) {
        yield { stream: line.stream, data: line.data, time: line.time };
      }
    }
  }

  async top(ref: string, psArgs: readonly string[] = []): Promise<ContainerTopResponse> {
    const rec = this.resolve(ref);
    await this.observeExit(rec);
    const cur = this.resolve(rec.id);
    if (cur.status !== "running" && cur.status !== "paused")
      throw conflict(`container ${cur.id} is not running`);
    const top = await containerTop(this.driver, cur.id, psArgs);
    this.svc.emit(cur, "top");
    return top;
  }

  async stats(ref: string): Promise<ContainerStatsResponse> {
    const rec = this.resolve(ref);
    await this.observeExit(rec);
    const cur = this.resolve(rec.id);
    return containerStats(cgroupPathOf(cur.id), RUNNING_STATES.has(cur.status) ? cur.pid : 0);
  }

  /** Readings a second apart while the container runs (the API's `stream=true`). */
  async *statsStream(
    ref: string,
    opts: { signal?: AbortSignal } = {},
  ): AsyncIterable<ContainerStatsResponse> {
    const rec = this.resolve(ref);
    let pid = rec.pid;
    yield* containerStatsStream(cgroupPathOf(rec.id), {
      pid: () => pid,
      running: async () => {
        const cur = this.meta.get(rec.id);
        if (
          !cur ||
          !RUNNING_STATES.has(cur.status) ||
          (await bestEffort(`reading the exit of container ${cur.id}`, this.observeExit(cur)))
        )
          return false;
        pid = cur.pid;
        return true;
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }
}

/** `ps`'s ports: published ones, then exposed ones that are not published (Docker's Port list). */
function summaryPorts(
  exposed: Readonly<Record<string, unknown>>,
  published: ReadonlyArray<{ hostIp: string; hostPort: number; containerPort: number; proto: string }>,
): Port[] {
  const out: Port[] = [];
  const seen = new Set<string>();
  const proto = (p: string): Port["Type"] => (p === "udp" ? "udp" : p === "sctp" ? "sctp" : "tcp");
  for (const p of published) {
    seen.add(`${p.containerPort}/${p.proto}`);
    out.push({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: proto(p.proto) });
  }
  for (const k of Object.keys(exposed)) {
    const [port = "", pr = "tcp"] = k.split("/");
    if (seen.has(`${port}/${pr}`) || !/^\d+$/.test(port)) continue;
    out.push({ PrivatePort: Number(port), Type: proto(pr) });
  }
  return out;
}

let cgroupVersionSeen: 1 | 2 | undefined;
/** The host's cgroup hierarchy: 2 when /sys/fs/cgroup is the unified one. */
export function cgroupVersion(): 1 | 2 {
  cgroupVersionSeen ??= existsSync("/sys/fs/cgroup/cgroup.controllers") ? 2 : 1;
  return cgroupVersionSeen;
}

/** A `publish`/`expose` filter value as Docker reads it: `PORT[/PROTO]` or `FROM-TO[/PROTO]`. */
function portFilter(key: string, value: string): (port: number, proto: string) => boolean {
  if (value.includes(":")) throw invalidArgument(`filter for '${key}' should not contain ':': ${value}`);
  const [range = "", proto = "tcp"] = value.split("/");
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  const from = Number(m?.[1]);
  const to = m?.[2] !== undefined ? Number(m[2]) : from;
  if (!m || from < 1 || to > 65535 || to < from)
    throw invalidArgument(`invalid port range for '${key}': ${value}`);
  return (port, p) => port >= from && port <= to && p === proto.toLowerCase();
}
