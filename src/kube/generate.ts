/**
 * `kube generate`: Kubernetes objects for a group of containers, from what inspect says of them
 * and of their images. Pure: the CLI looks the containers up and serialises the result.
 *
 * A group becomes one Pod (`type: "pod"`), or one Deployment per container (`type:
 * "deployment"`), so that containers that found each other by name on a user network find each
 * other by Service name in a cluster (with `service`). Whatever a container has that Kubernetes
 * cannot express is returned as a warning naming it; nothing set is dropped silently.
 */
import type { ContainerInspect, ImageInspect, ImageInspectConfig } from "../engine/types.js";
import {
  type ContainerPort,
  type Deployment,
  dnsLabel,
  type EnvVar,
  type ExecProbe,
  isLabelKey,
  isLabelValue,
  type KubeContainer,
  type KubeObject,
  type KubeVolume,
  type ObjectMeta,
  type PersistentVolumeClaim,
  type Pod,
  type PodSpec,
  type Service,
  type ServicePort,
  type VolumeMount,
} from "./objects.js";

export interface GenerateInput {
  readonly containers: readonly ContainerInspect[];
  /** The image of each container, by image ID. */
  readonly images: ReadonlyMap<string, ImageInspect>;
}

export interface GenerateOptions {
  /** The Pod's name (default: the network's name, or the first container's with `-pod`). */
  readonly name?: string;
  readonly type?: "pod" | "deployment";
  /** Also a Service per Pod/Deployment that has ports (NodePort when ports are published). */
  readonly service?: boolean;
}

export interface GenerateResult {
  readonly objects: KubeObject[];
  readonly warnings: string[];
}

/** Kubernetes' NodePort range (the API server's default `--service-node-port-range`). */
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

const KIB = 1024;

/** Bytes as a Kubernetes quantity (`512Mi`, `1Gi`, or a plain number). */
export function memoryQuantity(bytes: number): string {
  for (const [unit, size] of [
    ["Ti", KIB ** 4],
    ["Gi", KIB ** 3],
    ["Mi", KIB ** 2],
    ["Ki", KIB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** Nano-CPUs as a Kubernetes CPU quantity (`500m`, `2`). */
export function cpuQuantity(nanoCpus: number): string {
  const milli = Math.round(nanoCpus / 1e6);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

const seconds = (ns: number | undefined): number | undefined =>
  ns && ns > 0 ? Math.max(1, Math.ceil(ns / 1e9)) : undefined;

function sameList(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The container's name without Docker's leading slash. */
export const containerName = (c: ContainerInspect): string => c.Name.replace(/^\//, "");

export function generateKube(input: GenerateInput, opts: GenerateOptions = {}): GenerateResult {
  const warnings: string[] = [];
  const objects: KubeObject[] = [];
  const claims = new Map<string, PersistentVolumeClaim>();
  const type = opts.type ?? "pod";
  if (input.containers.length === 0) return { objects, warnings };

  if (type === "pod") {
    const first = input.containers[0];
    const podName = dnsLabel(opts.name ?? `${first ? containerName(first) : "pod"}-pod`);
    const pod = buildPodSpec(input, input.containers, podName, warnings, claims);
    const meta: ObjectMeta = { name: podName, labels: { app: podName, ...pod.labels } };
    if (Object.keys(pod.annotations).length > 0) meta.annotations = pod.annotations;
    objects.push({ apiVersion: "v1", kind: "Pod", metadata: meta, spec: pod.spec } satisfies Pod);
    if (opts.service) pushService(objects, podName, pod.spec, warnings);
  } else {
    for (const c of input.containers) {
      const name = dnsLabel(containerName(c));
      const pod = buildPodSpec(input, [c], name, warnings, claims);
      if (pod.spec.restartPolicy !== "Always") {
        warnings.push(
          `${containerName(c)}: restart policy becomes Always (the only one a Deployment allows)`,
        );
        pod.spec.restartPolicy = "Always";
      }
      const labels = { app: name, ...pod.labels };
      const meta: ObjectMeta = { name, labels };
      if (Object.keys(pod.annotations).length > 0) meta.annotations = pod.annotations;
      objects.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta,
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels }, spec: pod.spec },
        },
      } satisfies Deployment);
      if (opts.service) pushService(objects, name, pod.spec, warnings);
    }
  }
  objects.push(...claims.values());
  return { objects, warnings };
}

interface BuiltPod {
  spec: PodSpec;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function buildPodSpec(
  input: GenerateInput,
  group: readonly ContainerInspect[],
  podName: string,
  warnings: string[],
  claims: Map<string, PersistentVolumeClaim>,
): BuiltPod {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const volumes = new Map<string, KubeVolume>();
  const containers: KubeContainer[] = [];
  const policies = new Set<string>();
  const spec: PodSpec = { containers };
  const usedNames = new Set<string>();

  for (const c of group) {
    const name = containerName(c);
    const image = input.images.get(c.Image);
    const imageConfig: Partial<ImageInspectConfig> = image?.Config ?? {};
    const hc = c.HostConfig;
    let kname = dnsLabel(name);
    while (usedNames.has(kname)) kname = dnsLabel(`${kname}-x`);
    usedNames.add(kname);
    const k: KubeContainer = { name: kname, image: c.Config.Image ?? c.Image };

    // ENTRYPOINT and CMD: Kubernetes' command replaces the entrypoint and drops the image's CMD.
    if (!sameList(c.Config.Entrypoint, imageConfig.Entrypoint)) {
      k.command = [...(c.Config.Entrypoint ?? [])];
      if ((c.Config.Cmd ?? []).length > 0) k.args = [...(c.Config.Cmd ?? [])];
    } else if (!sameList(c.Config.Cmd, imageConfig.Cmd)) {
      k.args = [...(c.Config.Cmd ?? [])];
    }
    if (c.Config.WorkingDir && c.Config.WorkingDir !== imageConfig.WorkingDir)
      k.workingDir = c.Config.WorkingDir;

    const imageEnv = new Set(imageConfig.Env ?? []);
    const env: EnvVar[] = [];
    for (const e of c.Config.Env ?? []) {
      if (imageEnv.has(e)) continue;
      const eq = e.indexOf("=");
      env.push(eq < 0 ? { name: e, value: "" } : { name: e.slice(0, eq), value: e.slice(eq + 1) });
    }
    if (env.length > 0) k.env = env;

    const ports = containerPorts(c, warnings);
    if (ports.length > 0) k.ports = ports;

    const resources = containerResources(hc);
    if (resources) k.resources = resources;

    const sc = securityContext(c, imageConfig, name, warnings);
    if (Object.keys(sc).length > 0) k.securityContext = sc;
    if (c.Config.OpenStdin) k.stdin = true;
    if (c.Config.Tty) k.tty = true;

    const probe = livenessProbe(c.Config.Healthcheck ?? imageConfig.Healthcheck);
    if (probe) k.livenessProbe = probe;

    const mounts = volumeMounts(c, volumes, claims, warnings);
    if (mounts.length > 0) k.volumeMounts = mounts;

    // Labels the container has beyond its image's (the image's travel with the image).
    const imageLabels = imageConfig.Labels ?? {};
    for (const [key, value] of Object.entries(c.Config.Labels ?? {})) {
      if (imageLabels[key] === value) continue;
      const target = isLabelKey(key) && isLabelValue(value) ? labels : annotations;
      if (target[key] !== undefined && target[key] !== value)
        warnings.push(`${name}: label ${key} differs between the pod's containers; the first value is kept`);
      else target[key] = value;
    }
    for (const [key, value] of Object.entries(hc.Annotations ?? {})) annotations[key] = value;

    policies.add(restartPolicy(c, warnings));
    if (c.Config.StopTimeout !== undefined && c.Config.StopTimeout !== null)
      spec.terminationGracePeriodSeconds = c.Config.StopTimeout;

    podNetwork(c, spec, name, warnings);
    unmapped(c, warnings);
    containers.push(k);
  }

  if (volumes.size > 0) spec.volumes = [...volumes.values()];
  // One policy per pod: the one that restarts most, so no container that was kept running stops.
  const policy = ["Always", "OnFailure", "Never"].find((p) => policies.has(p)) ?? "Never";
  if (policies.size > 1)
    warnings.push(`${podName}: its containers have different restart policies; the pod takes ${policy}`);
  spec.restartPolicy = policy as PodSpec["restartPolicy"];
  return { spec, labels, annotations };
}

/** The container's memory and CPU limits and reservations as Kubernetes resources. */
function containerResources(hc: ContainerInspect["HostConfig"]): KubeContainer["resources"] {
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (hc.Memory) limits.memory = memoryQuantity(hc.Memory);
  if (hc.NanoCpus) limits.cpu = cpuQuantity(hc.NanoCpus);
  else if (hc.CpuQuota && hc.CpuQuota > 0)
    limits.cpu = cpuQuantity((hc.CpuQuota / (hc.CpuPeriod || 100000)) * 1e9);
  if (hc.MemoryReservation) requests.memory = memoryQuantity(hc.MemoryReservation);
  if (hc.CpuShares) requests.cpu = cpuQuantity((hc.CpuShares / 1024) * 1e9);
  if (Object.keys(limits).length === 0 && Object.keys(requests).length === 0) return undefined;
  const resources: NonNullable<KubeContainer["resources"]> = {};
  if (Object.keys(limits).length > 0) resources.limits = limits;
  if (Object.keys(requests).length > 0) resources.requests = requests;
  return resources;
}

/** The container's user (when it differs from the image's), privileges and capabilities. */
function securityContext(
  c: ContainerInspect,
  imageConfig: Partial<ImageInspectConfig>,
  name: string,
  warnings: string[],
): NonNullable<KubeContainer["securityContext"]> {
  const sc: NonNullable<KubeContainer["securityContext"]> = {};
  const user = c.Config.User ?? "";
  if (user !== "" && user !== (imageConfig.User ?? "")) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (m) {
      sc.runAsUser = Number(m[1]);
      if (m[2] !== undefined) sc.runAsGroup = Number(m[2]);
    } else {
      warnings.push(
        `${name}: user "${user}" is a name; Kubernetes' runAsUser takes a number, so it is left out`,
      );
    }
  }
  if (c.HostConfig.Privileged) sc.privileged = true;
  if (c.HostConfig.ReadonlyRootfs) sc.readOnlyRootFilesystem = true;
  const add = (c.HostConfig.CapAdd ?? []).map(capName);
  const drop = (c.HostConfig.CapDrop ?? []).map(capName);
  if (add.length > 0 || drop.length > 0) {
    sc.capabilities = {};
    if (add.length > 0) sc.capabilities.add = add;
    if (drop.length > 0) sc.capabilities.drop = drop;
  }
  return sc;
}

/** The container's network mode and extra hosts, as the pod's hostNetwork and hostAliases. */
function podNetwork(c: ContainerInspect, spec: PodSpec, name: string, warnings: string[]): void {
  const mode = c.HostConfig.NetworkMode ?? "";
  if (mode === "host") spec.hostNetwork = true;
  else if (mode.startsWith("container:"))
    warnings.push(
      `${name}: --network ${mode} is not expressible; the containers of a pod share one network namespace anyway`,
    );
  else if (mode === "none")
    warnings.push(`${name}: --network none has no Kubernetes equivalent; the pod gets the cluster network`);
  for (const h of c.HostConfig.ExtraHosts ?? []) {
    const i = h.lastIndexOf(":");
    const host = h.slice(0, i);
    const ip = h.slice(i + 1);
    if (ip === "host-gateway") {
      warnings.push(`${name}: --add-host ${h}: host-gateway has no Kubernetes equivalent`);
      continue;
    }
    spec.hostAliases ??= [];
    const entry = spec.hostAliases.find((a) => a.ip === ip);
    if (entry) entry.hostnames.push(host);
    else spec.hostAliases.push({ ip, hostnames: [host] });
  }
}

function capName(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, "");
}

function restartPolicy(c: ContainerInspect, warnings: string[]): string {
  const p = c.HostConfig.RestartPolicy;
  switch (p?.Name ?? "") {
    case "always":
      return "Always";
    case "unless-stopped":
      warnings.push(`${containerName(c)}: restart policy unless-stopped becomes Always`);
      return "Always";
    case "on-failure":
      if (p?.MaximumRetryCount)
        warnings.push(
          `${containerName(c)}: on-failure's retry limit ${p.MaximumRetryCount} has no Kubernetes equivalent (the kubelet backs off without a limit)`,
        );
      return "OnFailure";
    default:
      return "Never";
  }
}

function containerPorts(c: ContainerInspect, warnings: string[]): ContainerPort[] {
  const keys = new Set<string>([
    ...Object.keys(c.Config.ExposedPorts ?? {}),
    ...Object.keys(c.HostConfig.PortBindings ?? {}),
  ]);
  const out: ContainerPort[] = [];
  for (const key of [...keys].sort(comparePortKeys)) {
    const [num, proto = "tcp"] = key.split("/");
    const containerPort = Number(num);
    if (!Number.isInteger(containerPort) || containerPort <= 0) continue;
    const protocol = proto.toUpperCase() as ContainerPort["protocol"];
    const bindings = c.HostConfig.PortBindings?.[key] ?? [];
    if (bindings.length === 0) {
      out.push({ containerPort, protocol });
      continue;
    }
    for (const b of bindings) {
      const p: ContainerPort = { containerPort, protocol };
      const hostPort = Number(b.HostPort ?? "");
      if (b.HostPort && Number.isInteger(hostPort) && hostPort > 0) p.hostPort = hostPort;
      else
        warnings.push(
          `${containerName(c)}: port ${key} is published on a port chosen at start; Kubernetes needs a fixed hostPort, so only containerPort is kept`,
        );
      if (b.HostIp && b.HostIp !== "0.0.0.0" && b.HostIp !== "::") p.hostIP = b.HostIp;
      out.push(p);
    }
  }
  return out;
}

function comparePortKeys(a: string, b: string): number {
  return Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b);
}

function livenessProbe(h: ImageInspectConfig["Healthcheck"] | undefined): ExecProbe | undefined {
  const test = h?.Test ?? [];
  let command: string[];
  if (test[0] === "CMD") command = test.slice(1);
  else if (test[0] === "CMD-SHELL") command = ["/bin/sh", "-c", test.slice(1).join(" ")];
  else return undefined;
  const probe: ExecProbe = { exec: { command } };
  const delay = seconds(h?.StartPeriod);
  const period = seconds(h?.Interval);
  const timeout = seconds(h?.Timeout);
  if (delay !== undefined) probe.initialDelaySeconds = delay;
  if (period !== undefined) probe.periodSeconds = period;
  if (timeout !== undefined) probe.timeoutSeconds = timeout;
  if (h?.Retries) probe.failureThreshold = h.Retries;
  return probe;
}

/** An anonymous volume's name: 64 hex digits, as Docker makes them. */
const ANONYMOUS = /^[0-9a-f]{64}$/;

function volumeMounts(
  c: ContainerInspect,
  volumes: Map<string, KubeVolume>,
  claims: Map<string, PersistentVolumeClaim>,
  warnings: string[],
): VolumeMount[] {
  const out: VolumeMount[] = [];
  const name = containerName(c);
  const add = (vol: KubeVolume, mountPath: string, readOnly: boolean): void => {
    if (!volumes.has(vol.name)) volumes.set(vol.name, vol);
    const m: VolumeMount = { name: vol.name, mountPath };
    if (readOnly) m.readOnly = true;
    out.push(m);
  };
  for (const m of c.Mounts) {
    if (m.Type === "volume" && m.Name && !ANONYMOUS.test(m.Name)) {
      const claim = dnsLabel(m.Name);
      if (claim !== m.Name)
        warnings.push(
          `${name}: volume ${m.Name} becomes the claim ${claim} (Kubernetes names are DNS labels)`,
        );
      if (!claims.has(claim))
        claims.set(claim, {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: claim },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        });
      add({ name: claim, persistentVolumeClaim: { claimName: claim } }, m.Destination, !m.RW);
    } else if (m.Type === "volume") {
      add({ name: dnsLabel(`anon-${m.Destination}`), emptyDir: {} }, m.Destination, !m.RW);
    } else if (m.Type === "bind") {
      add({ name: dnsLabel(`host${m.Source}`), hostPath: { path: m.Source } }, m.Destination, !m.RW);
    } else if (m.Type === "tmpfs") {
      add(tmpfsVolume(m.Destination, c.HostConfig.Tmpfs?.[m.Destination]), m.Destination, false);
    }
  }
  for (const [path, options] of Object.entries(c.HostConfig.Tmpfs ?? {})) {
    if (out.some((m) => m.mountPath === path)) continue;
    add(tmpfsVolume(path, options), path, false);
  }
  for (const m of c.HostConfig.Mounts ?? []) {
    if (m.Type !== "tmpfs" || out.some((o) => o.mountPath === m.Target)) continue;
    const size = m.TmpfsOptions?.SizeBytes;
    add(tmpfsVolume(m.Target, size ? `size=${size}` : undefined), m.Target, false);
  }
  return out;
}

function tmpfsVolume(path: string, options: string | undefined): KubeVolume {
  const size = /(?:^|,)size=([^,]+)/.exec(options ?? "")?.[1];
  const emptyDir: KubeVolume["emptyDir"] = { medium: "Memory" };
  if (size) emptyDir.sizeLimit = tmpfsSize(size);
  return { name: dnsLabel(`tmpfs-${path}`), emptyDir };
}

/** tmpfs's size option (`64m`, `1g`, bytes) as a Kubernetes quantity. */
function tmpfsSize(size: string): string {
  const m = /^(\d+)([kmg]?)$/i.exec(size);
  if (!m) return size;
  const unit = (m[2] ?? "").toLowerCase();
  const mult = unit === "k" ? KIB : unit === "m" ? KIB ** 2 : unit === "g" ? KIB ** 3 : 1;
  return memoryQuantity(Number(m[1]) * mult);
}

/** Warnings for what a container has set that no Kubernetes field carries. */
function unmapped(c: ContainerInspect, warnings: string[]): void {
  const hc = c.HostConfig;
  const name = containerName(c);
  const say = (what: string): void => {
    warnings.push(`${name}: ${what} has no Kubernetes equivalent and is left out`);
  };
  if ((hc.Dns ?? []).length > 0) say("--dns");
  if ((hc.DnsSearch ?? []).length > 0) say("--dns-search");
  if ((hc.DnsOptions ?? []).length > 0) say("--dns-option");
  if ((hc.Devices ?? []).length > 0) say("--device");
  if ((hc.Ulimits ?? []).length > 0) say("--ulimit");
  if (Object.keys(hc.Sysctls ?? {}).length > 0) say("--sysctl");
  if (hc.PidsLimit && hc.PidsLimit > 0) say("--pids-limit");
  if (hc.MemorySwap && hc.MemorySwap !== 0 && hc.MemorySwap !== (hc.Memory ?? 0) * 2) say("--memory-swap");
  if (hc.CpusetCpus) say("--cpuset-cpus");
  if (hc.CpusetMems) say("--cpuset-mems");
  if (hc.BlkioWeight) say("--blkio-weight");
  if (hc.OomScoreAdj) say("--oom-score-adj");
  if (hc.OomKillDisable) say("--oom-kill-disable");
  if (hc.Init) say("--init");
  if ((hc.SecurityOpt ?? []).length > 0) say("--security-opt");
  if ((hc.Links ?? []).length > 0) say("--link");
  if (hc.PublishAllPorts) say("--publish-all");
  if (hc.ShmSize && hc.ShmSize !== 64 * KIB * KIB) say("--shm-size");
  if (hc.PidMode) say(`--pid ${hc.PidMode}`);
  if (hc.IpcMode && hc.IpcMode !== "private" && hc.IpcMode !== "shareable") say(`--ipc ${hc.IpcMode}`);
  if ((hc.GroupAdd ?? []).length > 0) say("--group-add");
  if (hc.LogConfig && hc.LogConfig.Type !== "" && Object.keys(hc.LogConfig.Config ?? {}).length > 0)
    say("--log-opt");
  if (c.Config.StopSignal && c.Config.StopSignal !== "SIGTERM") say(`stop signal ${c.Config.StopSignal}`);
  if (c.Config.Domainname) say("--domainname");
  for (const [net, ep] of Object.entries(c.NetworkSettings.Networks ?? {})) {
    if (ep.IPAMConfig?.IPv4Address) say(`a fixed address on network ${net} (--ip)`);
    const aliases = (ep.Aliases ?? []).filter((a) => a !== name && !c.Id.startsWith(a));
    if (aliases.length > 0) say(`network aliases ${aliases.join(", ")} on ${net}`);
  }
}

function pushService(objects: KubeObject[], name: string, spec: PodSpec, warnings: string[]): void {
  const ports: ServicePort[] = [];
  let published = false;
  const seen = new Set<string>();
  for (const k of spec.containers) {
    for (const p of k.ports ?? []) {
      const key = `${p.containerPort}/${p.protocol ?? "TCP"}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const sp: ServicePort = {
        name: dnsLabel(`${p.containerPort}-${(p.protocol ?? "TCP").toLowerCase()}`),
        protocol: p.protocol ?? "TCP",
        port: p.containerPort,
        targetPort: p.containerPort,
      };
      if (p.hostPort !== undefined) {
        published = true;
        if (p.hostPort >= NODE_PORT_MIN && p.hostPort <= NODE_PORT_MAX) sp.nodePort = p.hostPort;
        else
          warnings.push(
            `${name}: host port ${p.hostPort} is outside Kubernetes' NodePort range (${NODE_PORT_MIN}-${NODE_PORT_MAX}); the cluster picks the node port`,
          );
      }
      ports.push(sp);
    }
  }
  if (ports.length === 0) {
    warnings.push(`${name}: no ports, so no Service`);
    return;
  }
  objects.push({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels: { app: name } },
    spec: { type: published ? "NodePort" : "ClusterIP", selector: { app: name }, ports },
  } satisfies Service);
}
