/**
 * `kube play`: from Kubernetes objects (already parsed from YAML) to what berth creates on one
 * machine. Pure: this module checks the objects strictly and returns a plan; the CLI carries it
 * out through the Engine.
 *
 * Shape on one machine, as Podman's: each Pod (and each replica of a Deployment) is an infra
 * container holding the pod's network namespace, published ports and hostname, and the pod's
 * containers join it (`--network container:<infra>`). Infra containers are on one user network
 * (`KUBE_NETWORK`) with the pod's name and the names of the Services selecting it as aliases, so
 * pods find each other by Service name as in a cluster. PersistentVolumeClaims are named volumes;
 * emptyDir, ConfigMap and Secret volumes are volumes of the pod (ConfigMaps and Secrets written
 * into them as files). Every field and kind berth cannot honour is an error naming it: nothing is
 * accepted and ignored.
 */
import { invalidArgument } from "../base/errors.js";
import type { HostConfig, MountSpec, PortBinding } from "../engine/types.js";
import { dnsLabel, isLabelKey, isLabelValue } from "./objects.js";

/** The user network pods are attached to. */
export const KUBE_NETWORK = "berth-kube";
/** Labels berth puts on what `kube play` creates, so `--down` removes exactly that. */
export const POD_LABEL = "io.berth.kube.pod";
export const PLAY_LABEL = "io.berth.kube.play";
export const ROLE_LABEL = "io.berth.kube.role";
/** Where the infra container mounts a ConfigMap/Secret volume to write its files. */
export const INFRA_FILES = "/.berth-kube";

export interface PlannedContainer {
  /** The container's name: `<pod>-<container>`. */
  readonly name: string;
  readonly image: string;
  readonly pullAlways: boolean;
  readonly entrypoint?: string[];
  readonly cmd?: string[];
  readonly workingDir?: string;
  readonly env: string[];
  readonly user?: string;
  readonly tty: boolean;
  readonly openStdin: boolean;
  readonly healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    Retries?: number;
  };
  readonly hostConfig: HostConfig;
}

/** A pod volume berth makes (emptyDir, ConfigMap, Secret), named `<pod>-<volume>`. */
export interface PodVolume {
  readonly name: string;
  /** Files to write into it (path relative to the volume → content), for ConfigMaps and Secrets. */
  readonly files?: ReadonlyMap<string, Buffer>;
}

export interface PlannedPod {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly hostname: string;
  readonly hostNetwork: boolean;
  readonly extraHosts: string[];
  /** Aliases of the infra container on KUBE_NETWORK: the pod's name and its Services'. */
  readonly aliases: string[];
  /** The pod's published ports (`<port>/<proto>` → bindings), held by the infra container. */
  readonly portBindings: Record<string, PortBinding[]>;
  readonly restartPolicy: HostConfig["RestartPolicy"];
  readonly stopTimeout?: number;
  readonly volumes: PodVolume[];
  readonly containers: PlannedContainer[];
}

export interface PlayPlan {
  /** Named volumes of PersistentVolumeClaims (created when missing). */
  readonly claims: string[];
  readonly pods: PlannedPod[];
  /** What berth does differently from a cluster, said on stderr. */
  readonly warnings: string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Strict field access: every object is checked against the fields berth supports. */
class Reader {
  constructor(
    readonly what: string,
    readonly path: string,
    readonly value: Obj,
  ) {}

  static of(what: string, path: string, value: unknown): Reader {
    if (!isObj(value)) throw invalidArgument(`${what}: ${path || "the document"} must be an object`);
    return new Reader(what, path, value);
  }

  private at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** Refuses any field outside `allowed` (and `ignorable` empty ones, as kubectl writes them). */
  only(allowed: readonly string[]): this {
    for (const [k, v] of Object.entries(this.value)) {
      if (allowed.includes(k)) continue;
      if (
        (k === "status" || k === "creationTimestamp") &&
        (v === null || (isObj(v) && Object.keys(v).length === 0))
      )
        continue;
      throw invalidArgument(`${this.what}: ${this.at(k)} is not supported by berth kube play`);
    }
    return this;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  str(key: string): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw invalidArgument(`${this.what}: ${this.at(key)} must be a string`);
    return v;
  }

  reqStr(key: string): string {
    const v = this.str(key);
    if (v === undefined || v === "") throw invalidArgument(`${this.what}: ${this.at(key)} is required`);
    return v;
  }

  num(key: string): number | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v))
      throw invalidArgument(`${this.what}: ${this.at(key)} must be an integer`);
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw invalidArgument(`${this.what}: ${this.at(key)} must be true or false`);
    return v;
  }

  strList(key: string): string[] | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
      throw invalidArgument(`${this.what}: ${this.at(key)} must be a list of strings`);
    return v as string[];
  }

  strMap(key: string): Record<string, string> {
    const v = this.value[key];
    if (v === undefined || v === null) return {};
    if (!isObj(v)) throw invalidArgument(`${this.what}: ${this.at(key)} must be a map`);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== "string") throw invalidArgument(`${this.what}: ${this.at(key)}.${k} must be a string`);
      out[k] = x;
    }
    return out;
  }

  obj(key: string): Reader | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    return Reader.of(this.what, this.at(key), v);
  }

  list(key: string): Reader[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw invalidArgument(`${this.what}: ${this.at(key)} must be a list`);
    return v.map((x, i) => Reader.of(this.what, `${this.at(key)}[${i}]`, x));
  }
}

const KIB = 1024;
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = {
  Ki: KIB,
  Mi: KIB ** 2,
  Gi: KIB ** 3,
  Ti: KIB ** 4,
  Pi: KIB ** 5,
  Ei: KIB ** 6,
};

/** A Kubernetes quantity (`512Mi`, `1G`, `500m`, `0.5`, `1e3`) as a number of units. */
export function parseQuantity(q: string | number, what: string): number {
  if (typeof q === "number") return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([kMGTPE])|(m)|[eE]([+-]?\d+))?$/.exec(
    q.trim(),
  );
  if (!m) throw invalidArgument(`${what}: ${JSON.stringify(q)} is not a Kubernetes quantity`);
  const n = Number(m[1]);
  if (m[2]) return n * (BINARY[m[2]] ?? 1);
  if (m[3]) return n * (DECIMAL[m[3]] ?? 1);
  if (m[4]) return n / 1000;
  if (m[5]) return n * 10 ** Number(m[5]);
  return n;
}

function quantityField(r: Reader, key: string): number | undefined {
  const v = r.value[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" && typeof v !== "number")
    throw invalidArgument(`${r.what}: ${r.path}.${key} must be a quantity`);
  return parseQuantity(v, `${r.what}: ${r.path}.${key}`);
}

interface KeyedData {
  readonly data: Map<string, Buffer>;
}

interface Inventory {
  readonly configMaps: Map<string, KeyedData>;
  readonly secrets: Map<string, KeyedData>;
  readonly claims: Set<string>;
  readonly services: ServiceDef[];
}

interface ServiceDef {
  readonly name: string;
  readonly selector: Record<string, string>;
  readonly published: boolean;
  readonly ports: { protocol: string; port: number; targetPort: number | string; nodePort?: number }[];
}

interface PodDef {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly spec: Reader;
  readonly what: string;
  /** A replica of a Deployment after the first does not take the Services' host ports. */
  readonly publishes: boolean;
}

function checkName(what: string, name: string): string {
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(name))
    throw invalidArgument(`${what}: metadata.name ${JSON.stringify(name)} is not a valid Kubernetes name`);
  return name;
}

function meta(r: Reader, what: string): { name: string; labels: Record<string, string> } {
  const m = r.obj("metadata");
  if (!m) throw invalidArgument(`${what}: metadata is required`);
  m.only(["name", "labels", "annotations", "namespace"]);
  const ns = m.str("namespace");
  if (ns !== undefined && ns !== "default")
    throw invalidArgument(
      `${what}: namespace ${ns} is not supported (berth plays into one namespace, default)`,
    );
  const labels = m.strMap("labels");
  for (const [k, v] of Object.entries(labels))
    if (!isLabelKey(k) || !isLabelValue(v))
      throw invalidArgument(`${what}: label ${k}=${v} is not a valid Kubernetes label`);
  m.strMap("annotations");
  return { name: checkName(what, m.reqStr("name")), labels };
}

function keyedData(
  r: Reader,
  what: string,
  base64Keys: readonly string[],
  textKeys: readonly string[],
): KeyedData {
  const data = new Map<string, Buffer>();
  for (const key of textKeys)
    for (const [k, v] of Object.entries(r.strMap(key))) data.set(k, Buffer.from(v, "utf8"));
  for (const key of base64Keys)
    for (const [k, v] of Object.entries(r.strMap(key))) {
      if (!/^[A-Za-z0-9+/\s]*={0,2}$/.test(v)) throw invalidArgument(`${what}: ${key}.${k} is not base64`);
      data.set(k, Buffer.from(v, "base64"));
    }
  for (const k of data.keys())
    if (!/^[-._a-zA-Z0-9]+$/.test(k) || k === "." || k === "..")
      throw invalidArgument(`${what}: key ${JSON.stringify(k)} is not a valid ConfigMap/Secret key`);
  return { data };
}

/** Checks every object and lays out what to create. */
export function planPlay(documents: readonly unknown[]): PlayPlan {
  const inv: Inventory = { configMaps: new Map(), secrets: new Map(), claims: new Set(), services: [] };
  const pods: PodDef[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();

  for (const doc of documents) {
    if (doc === null || doc === undefined) continue;
    const untyped = Reader.of("kube play", "", doc);
    const kind = untyped.str("kind") ?? "";
    const apiVersion = untyped.str("apiVersion") ?? "";
    const label =
      `${kind || "object"} ${isObj(untyped.value.metadata) && typeof untyped.value.metadata.name === "string" ? untyped.value.metadata.name : ""}`.trim();
    // Errors below name the object: `Pod web: spec.affinity is not supported …`.
    const top = new Reader(label, "", untyped.value);
    const expectVersion = (v: string): void => {
      if (apiVersion !== v)
        throw invalidArgument(
          `${label}: apiVersion ${JSON.stringify(apiVersion)} is not supported for ${kind} (use ${v})`,
        );
    };
    const key = `${kind}/${isObj(top.value.metadata) ? String(top.value.metadata.name) : ""}`;
    if (seen.has(key)) throw invalidArgument(`${label}: defined twice`);
    seen.add(key);
    switch (kind) {
      case "Pod": {
        expectVersion("v1");
        const { m, spec } = metaAndSpec(top, label);
        pods.push({ name: m.name, labels: m.labels, spec, what: label, publishes: true });
        break;
      }
      case "Deployment": {
        expectVersion("apps/v1");
        pods.push(...deploymentPods(top, label, warnings));
        break;
      }
      case "Service": {
        expectVersion("v1");
        inv.services.push(serviceDef(top, label));
        break;
      }
      case "PersistentVolumeClaim": {
        expectVersion("v1");
        top.only(["apiVersion", "kind", "metadata", "spec"]);
        const m = meta(top, label);
        const spec = top.obj("spec");
        spec?.only(["accessModes", "resources", "storageClassName", "volumeMode"]);
        const mode = spec?.str("volumeMode");
        if (mode !== undefined && mode !== "Filesystem")
          throw invalidArgument(`${label}: volumeMode ${mode} is not supported`);
        spec?.obj("resources")?.only(["requests", "limits"]);
        inv.claims.add(m.name);
        if (spec?.has("resources") || spec?.has("storageClassName"))
          warnings.push(
            `${label}: a local volume has no size or storage class; the requested storage is not enforced`,
          );
        break;
      }
      case "ConfigMap": {
        expectVersion("v1");
        top.only(["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"]);
        const m = meta(top, label);
        inv.configMaps.set(m.name, keyedData(top, label, ["binaryData"], ["data"]));
        break;
      }
      case "Secret": {
        expectVersion("v1");
        top.only(["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"]);
        const m = meta(top, label);
        const type = top.str("type") ?? "Opaque";
        if (type !== "Opaque")
          throw invalidArgument(`${label}: Secret type ${type} is not supported (Opaque only)`);
        inv.secrets.set(m.name, keyedData(top, label, ["data"], ["stringData"]));
        break;
      }
      default:
        throw invalidArgument(
          `${label}: kind ${JSON.stringify(kind)} is not supported by berth kube play (Pod, Deployment, Service, PersistentVolumeClaim, ConfigMap, Secret)`,
        );
    }
  }

  const names = new Set<string>();
  const planned = pods.map((p) => {
    if (names.has(p.name)) throw invalidArgument(`${p.what}: a second pod named ${p.name}`);
    names.add(p.name);
    return planPod(p, inv, warnings);
  });
  for (const s of inv.services)
    if (!pods.some((p) => selects(s.selector, p.labels)))
      warnings.push(`Service ${s.name}: selects no pod in this file`);
  return { claims: [...inv.claims].sort(), pods: planned, warnings };
}

/** An object of metadata and a required spec (Pod, Deployment, Service): its metadata and spec. */
function metaAndSpec(top: Reader, label: string): { m: ReturnType<typeof meta>; spec: Reader } {
  top.only(["apiVersion", "kind", "metadata", "spec"]);
  const m = meta(top, label);
  const spec = top.obj("spec");
  if (!spec) throw invalidArgument(`${label}: spec is required`);
  return { m, spec };
}

/** A Deployment's replicas as pods, each named `<deployment>-<i>`. */
function deploymentPods(top: Reader, label: string, warnings: string[]): PodDef[] {
  const { m, spec } = metaAndSpec(top, label);
  spec.only(["replicas", "selector", "template"]);
  const replicas = spec.num("replicas") ?? 1;
  if (replicas < 0 || replicas > 100)
    throw invalidArgument(`${label}: spec.replicas must be between 0 and 100`);
  const template = spec.obj("template");
  if (!template) throw invalidArgument(`${label}: spec.template is required`);
  template.only(["metadata", "spec"]);
  const tmeta = template.obj("metadata");
  tmeta?.only(["labels", "annotations", "name"]);
  const labels = tmeta?.strMap("labels") ?? {};
  const selector = spec.obj("selector");
  if (selector) {
    selector.only(["matchLabels"]);
    for (const [k, v] of Object.entries(selector.strMap("matchLabels")))
      if (labels[k] !== v)
        throw invalidArgument(
          `${label}: spec.selector.matchLabels ${k}=${v} does not match the template's labels`,
        );
  }
  const podSpec = template.obj("spec");
  if (!podSpec) throw invalidArgument(`${label}: spec.template.spec is required`);
  const pods: PodDef[] = [];
  for (let i = 0; i < replicas; i++)
    pods.push({
      name: `${m.name}-${i}`,
      labels,
      spec: podSpec,
      what: `${label} (replica ${i})`,
      publishes: i === 0,
    });
  if (replicas > 1)
    warnings.push(
      `${label}: ${replicas} replicas run as ${replicas} pods; a Service's published ports reach replica ${m.name}-0 only (no load balancing on one machine)`,
    );
  return pods;
}

/** A port entry's `key` (a Service's port, a container's containerPort): a number from 1 to 65535. */
function portNumber(r: Reader, key: string, what: string): number {
  const port = r.num(key);
  if (port === undefined || port < 1 || port > 65535)
    throw invalidArgument(`${what}: ${r.path}.${key} must be a port number`);
  return port;
}

/** A port entry's protocol, upper-case as Kubernetes writes it: TCP (the default) or UDP. */
function portProtocol(r: Reader, what: string): "TCP" | "UDP" {
  const protocol = (r.str("protocol") ?? "TCP").toUpperCase();
  if (protocol !== "TCP" && protocol !== "UDP")
    throw invalidArgument(`${what}: protocol ${protocol} is not supported`);
  return protocol;
}

/** A Service: which pods it selects, and the ports it publishes when its type is not ClusterIP. */
function serviceDef(top: Reader, label: string): ServiceDef {
  const { m, spec } = metaAndSpec(top, label);
  spec.only(["type", "selector", "ports"]);
  const type = spec.str("type") ?? "ClusterIP";
  if (!["ClusterIP", "NodePort", "LoadBalancer"].includes(type))
    throw invalidArgument(`${label}: spec.type ${type} is not supported`);
  const ports = spec.list("ports").map((p) => {
    p.only(["name", "protocol", "port", "targetPort", "nodePort"]);
    const port = portNumber(p, "port", label);
    const protocol = portProtocol(p, label);
    const t = p.value.targetPort;
    if (t !== undefined && typeof t !== "number" && typeof t !== "string")
      throw invalidArgument(`${label}: ${p.path}.targetPort must be a number or a port name`);
    const nodePort = p.num("nodePort");
    if (nodePort !== undefined && type === "ClusterIP")
      throw invalidArgument(`${label}: ${p.path}.nodePort needs type NodePort or LoadBalancer`);
    return { protocol, port, targetPort: t ?? port, ...(nodePort !== undefined ? { nodePort } : {}) };
  });
  return {
    name: m.name,
    selector: spec.strMap("selector"),
    published: type !== "ClusterIP",
    ports,
  };
}

function bindingsOf(all: Record<string, PortBinding[]>, key: string): PortBinding[] {
  const list = all[key] ?? [];
  all[key] = list;
  return list;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

function planPod(p: PodDef, inv: Inventory, warnings: string[]): PlannedPod {
  const { spec, what } = p;
  spec.only([
    "containers",
    "volumes",
    "restartPolicy",
    "hostname",
    "hostNetwork",
    "hostAliases",
    "terminationGracePeriodSeconds",
  ]);
  const restart = spec.str("restartPolicy") ?? "Always";
  const policyName: Record<string, string> = { Always: "always", OnFailure: "on-failure", Never: "no" };
  const policy = policyName[restart];
  if (policy === undefined) throw invalidArgument(`${what}: spec.restartPolicy ${restart} is not valid`);
  const hostNetwork = spec.bool("hostNetwork") ?? false;
  const hostname = spec.str("hostname") ?? p.name;
  const extraHosts: string[] = [];
  for (const a of spec.list("hostAliases")) {
    a.only(["ip", "hostnames"]);
    const ip = a.reqStr("ip");
    for (const h of a.strList("hostnames") ?? []) extraHosts.push(`${h}:${ip}`);
  }

  const { volumes, volumeMount } = planPodVolumes(p, inv, warnings);

  const containerList = spec.list("containers");
  if (containerList.length === 0) throw invalidArgument(`${what}: spec.containers is required`);
  const portBindings: Record<string, PortBinding[]> = {};
  const containerPorts = new Map<string, number>();
  const cnames = new Set<string>();
  const containers = containerList.map((c) =>
    planContainer(c, { p, inv, warnings, volumeMount, portBindings, containerPorts, cnames }),
  );

  // Services selecting this pod: their names are aliases, their published ports the pod's.
  const aliases = [p.name];
  for (const s of inv.services) {
    if (!selects(s.selector, p.labels)) continue;
    if (!aliases.includes(s.name)) aliases.push(s.name);
    if (!s.published || !p.publishes) continue;
    for (const sp of s.ports) {
      const target = typeof sp.targetPort === "number" ? sp.targetPort : containerPorts.get(sp.targetPort);
      if (target === undefined)
        throw invalidArgument(
          `Service ${s.name}: targetPort ${sp.targetPort} names no port of pod ${p.name}`,
        );
      const key = `${target}/${sp.protocol.toLowerCase()}`;
      const host = sp.nodePort ?? sp.port;
      const list = bindingsOf(portBindings, key);
      if (!list.some((b) => b.HostPort === String(host))) list.push({ HostPort: String(host) });
    }
  }
  if (hostNetwork && Object.keys(portBindings).length > 0)
    throw invalidArgument(`${what}: hostPort and published Service ports cannot be used with hostNetwork`);

  const stop = spec.num("terminationGracePeriodSeconds");
  return {
    name: p.name,
    labels: p.labels,
    hostname,
    hostNetwork,
    extraHosts,
    aliases,
    portBindings,
    restartPolicy: { Name: policy },
    ...(stop !== undefined ? { stopTimeout: stop } : {}),
    volumes,
    containers,
  };
}

/** How a container's volumeMount of one of the pod's volumes becomes a mount. */
type VolumeMounter = (target: string, readOnly: boolean) => MountSpec;

/** The pod's volumes: the ones to create, and a mounter for each volume name. */
function planPodVolumes(
  p: PodDef,
  inv: Inventory,
  warnings: string[],
): { volumes: PodVolume[]; volumeMount: Map<string, VolumeMounter> } {
  const { spec, what } = p;
  const volumes: PodVolume[] = [];
  const volumeMount = new Map<string, VolumeMounter>();
  for (const v of spec.list("volumes")) {
    v.only(["name", "persistentVolumeClaim", "hostPath", "emptyDir", "configMap", "secret"]);
    const vname = v.reqStr("name");
    if (volumeMount.has(vname)) throw invalidArgument(`${what}: volume ${vname} is defined twice`);
    const pvc = v.obj("persistentVolumeClaim");
    const hostPath = v.obj("hostPath");
    const emptyDir = v.obj("emptyDir");
    const cm = v.obj("configMap");
    const secret = v.obj("secret");
    if ([pvc, hostPath, emptyDir, cm, secret].filter(Boolean).length !== 1)
      throw invalidArgument(
        `${what}: volume ${vname} must have exactly one source (persistentVolumeClaim, hostPath, emptyDir, configMap or secret)`,
      );
    if (pvc) {
      pvc.only(["claimName", "readOnly"]);
      const claim = pvc.reqStr("claimName");
      const ro = pvc.bool("readOnly") ?? false;
      // A claim without a PersistentVolumeClaim object in the file is made too, as Podman does.
      inv.claims.add(checkName(`${what}: volume ${vname}`, claim));
      volumeMount.set(vname, (target, readOnly) => ({
        Type: "volume",
        Source: claim,
        Target: target,
        ReadOnly: readOnly || ro,
      }));
    } else if (hostPath) {
      hostPath.only(["path", "type"]);
      const path = hostPath.reqStr("path");
      if (!path.startsWith("/"))
        throw invalidArgument(`${what}: volume ${vname}: hostPath.path must be absolute`);
      const type = hostPath.str("type") ?? "";
      if (!["", "Directory", "File", "DirectoryOrCreate"].includes(type))
        throw invalidArgument(`${what}: volume ${vname}: hostPath.type ${type} is not supported`);
      volumeMount.set(vname, (target, readOnly) => ({
        Type: "bind",
        Source: path,
        Target: target,
        ReadOnly: readOnly,
        ...(type === "DirectoryOrCreate" ? { BindOptions: { CreateMountpoint: true } } : {}),
      }));
    } else if (emptyDir) {
      emptyDir.only(["medium", "sizeLimit"]);
      const medium = emptyDir.str("medium") ?? "";
      if (medium !== "" && medium !== "Memory")
        throw invalidArgument(`${what}: volume ${vname}: emptyDir.medium ${medium} is not supported`);
      const size = quantityField(emptyDir, "sizeLimit");
      if (medium === "Memory") {
        // A tmpfs of the one container that mounts it (berth's volumes are on disk).
        let users = 0;
        volumeMount.set(vname, (target) => {
          users += 1;
          if (users > 1)
            throw invalidArgument(
              `${what}: volume ${vname}: an emptyDir with medium Memory mounted by more than one container is not supported`,
            );
          return {
            Type: "tmpfs",
            Target: target,
            ...(size !== undefined ? { TmpfsOptions: { SizeBytes: Math.ceil(size) } } : {}),
          };
        });
        continue;
      }
      if (size !== undefined)
        warnings.push(`${what}: volume ${vname}: emptyDir.sizeLimit is not enforced on a disk volume`);
      const name = `${p.name}-${dnsLabel(vname)}`;
      volumes.push({ name });
      volumeMount.set(vname, (target, readOnly) => ({
        Type: "volume",
        Source: name,
        Target: target,
        ReadOnly: readOnly,
      }));
    } else {
      const src = (cm ?? secret) as Reader;
      const isCm = cm !== undefined;
      const files = configVolumeFiles(src, isCm, `${what}: volume ${vname}`, inv);
      const name = `${p.name}-${dnsLabel(vname)}`;
      volumes.push({ name, files });
      volumeMount.set(vname, (target) => ({ Type: "volume", Source: name, Target: target, ReadOnly: true }));
    }
  }
  return { volumes, volumeMount };
}

/** What a container's plan reads of its pod, and the pod-wide tables it adds to. */
interface PodContext {
  readonly p: PodDef;
  readonly inv: Inventory;
  readonly warnings: string[];
  readonly volumeMount: ReadonlyMap<string, VolumeMounter>;
  /** The pod's published ports, which its containers' hostPorts add to. */
  readonly portBindings: Record<string, PortBinding[]>;
  /** Named container ports, for Services' targetPort by name. */
  readonly containerPorts: Map<string, number>;
  /** Container names seen so far (each must be unique in the pod). */
  readonly cnames: Set<string>;
}

/**
 * One pod container as a berth create request: its fields read in the order of the Kubernetes
 * Container spec (the keys it may have, image, command, environment, ports, resources, mounts,
 * probes), each refused or warned about where berth has no counterpart; the parts that are
 * objects of their own (environment, ports, probe) have their own functions.
 */
function planContainer(c: Reader, pod: PodContext): PlannedContainer {
  const { p, inv, warnings, volumeMount, cnames } = pod;
  const { what } = p;
  c.only([
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "workingDir",
    "env",
    "envFrom",
    "ports",
    "resources",
    "volumeMounts",
    "livenessProbe",
    "securityContext",
    "stdin",
    "tty",
  ]);
  const cname = c.reqStr("name");
  if (cnames.has(cname)) throw invalidArgument(`${what}: container ${cname} is defined twice`);
  cnames.add(cname);
  const cwhat = `${what}: container ${cname}`;
  const image = c.reqStr("image");
  const pull = c.str("imagePullPolicy") ?? "IfNotPresent";
  if (!["Always", "IfNotPresent", "Never"].includes(pull))
    throw invalidArgument(`${cwhat}: imagePullPolicy ${pull} is not valid`);

  const env = containerEnv(c, cwhat, inv);

  containerPortsOf(c, cwhat, pod);

  const hostConfig: HostConfig = {};
  const resources = c.obj("resources");
  if (resources) {
    resources.only(["limits", "requests"]);
    const limits = resources.obj("limits");
    limits?.only(["memory", "cpu"]);
    const requests = resources.obj("requests");
    requests?.only(["memory", "cpu"]);
    const mem = limits ? quantityField(limits, "memory") : undefined;
    if (mem !== undefined) hostConfig.Memory = Math.round(mem);
    const cpu = limits ? quantityField(limits, "cpu") : undefined;
    if (cpu !== undefined) hostConfig.NanoCpus = Math.round(cpu * 1e9);
    const rmem = requests ? quantityField(requests, "memory") : undefined;
    if (rmem !== undefined) hostConfig.MemoryReservation = Math.round(rmem);
    const rcpu = requests ? quantityField(requests, "cpu") : undefined;
    if (rcpu !== undefined) hostConfig.CpuShares = Math.max(2, Math.round(rcpu * 1024));
  }

  let user: string | undefined;
  const sc = c.obj("securityContext");
  if (sc) {
    sc.only(["runAsUser", "runAsGroup", "privileged", "readOnlyRootFilesystem", "capabilities"]);
    const uid = sc.num("runAsUser");
    const gid = sc.num("runAsGroup");
    if (uid !== undefined) user = gid !== undefined ? `${uid}:${gid}` : String(uid);
    else if (gid !== undefined)
      throw invalidArgument(`${cwhat}: runAsGroup without runAsUser is not supported`);
    if (sc.bool("privileged")) hostConfig.Privileged = true;
    if (sc.bool("readOnlyRootFilesystem")) hostConfig.ReadonlyRootfs = true;
    const caps = sc.obj("capabilities");
    caps?.only(["add", "drop"]);
    const add = caps?.strList("add");
    const drop = caps?.strList("drop");
    if (add) hostConfig.CapAdd = add;
    if (drop) hostConfig.CapDrop = drop;
  }

  const mounts: MountSpec[] = [];
  for (const vm of c.list("volumeMounts")) {
    vm.only(["name", "mountPath", "readOnly"]);
    const vname = vm.reqStr("name");
    const make = volumeMount.get(vname);
    if (!make) throw invalidArgument(`${cwhat}: volumeMount ${vname} names no volume of the pod`);
    const target = vm.reqStr("mountPath");
    if (!target.startsWith("/")) throw invalidArgument(`${cwhat}: mountPath ${target} must be absolute`);
    mounts.push(make(target, vm.bool("readOnly") ?? false));
  }
  if (mounts.length > 0) hostConfig.Mounts = mounts;

  const healthcheck = livenessHealthcheck(c, cwhat, warnings);

  const planned: PlannedContainer = {
    name: `${p.name}-${dnsLabel(cname)}`,
    image,
    pullAlways: pull === "Always",
    env,
    tty: c.bool("tty") ?? false,
    openStdin: c.bool("stdin") ?? false,
    hostConfig,
  };
  const command = c.strList("command");
  const args = c.strList("args");
  const workingDir = c.str("workingDir");
  return {
    ...planned,
    ...(command !== undefined ? { entrypoint: command } : {}),
    // Kubernetes: a command without args drops the image's CMD.
    ...(args !== undefined ? { cmd: args } : command !== undefined ? { cmd: [] } : {}),
    ...(workingDir !== undefined ? { workingDir } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(healthcheck !== undefined ? { healthcheck } : {}),
  };
}

/** A container's environment: envFrom's ConfigMaps and Secrets, then env (values, or keys of them). */
function containerEnv(c: Reader, cwhat: string, inv: Inventory): string[] {
  const env: string[] = [];
  for (const from of c.list("envFrom")) {
    from.only(["prefix", "configMapRef", "secretRef"]);
    const prefix = from.str("prefix") ?? "";
    const ref = from.obj("configMapRef") ?? from.obj("secretRef");
    if (!ref) throw invalidArgument(`${cwhat}: ${from.path} needs configMapRef or secretRef`);
    ref.only(["name", "optional"]);
    const isCm = from.has("configMapRef");
    const name = ref.reqStr("name");
    const found = (isCm ? inv.configMaps : inv.secrets).get(name);
    if (!found) {
      if (ref.bool("optional")) continue;
      throw invalidArgument(`${cwhat}: ${isCm ? "ConfigMap" : "Secret"} ${name} is not in this file`);
    }
    for (const [k, v] of found.data) env.push(`${prefix}${k}=${v.toString("utf8")}`);
  }
  for (const e of c.list("env")) {
    e.only(["name", "value", "valueFrom"]);
    const name = e.reqStr("name");
    const vf = e.obj("valueFrom");
    if (!vf) {
      env.push(`${name}=${e.str("value") ?? ""}`);
      continue;
    }
    vf.only(["configMapKeyRef", "secretKeyRef"]);
    const ref = vf.obj("configMapKeyRef") ?? vf.obj("secretKeyRef");
    if (!ref) throw invalidArgument(`${cwhat}: env ${name}: valueFrom needs configMapKeyRef or secretKeyRef`);
    ref.only(["name", "key", "optional"]);
    const isCm = vf.has("configMapKeyRef");
    const found = (isCm ? inv.configMaps : inv.secrets).get(ref.reqStr("name"))?.data.get(ref.reqStr("key"));
    if (found === undefined) {
      if (ref.bool("optional")) continue;
      throw invalidArgument(
        `${cwhat}: env ${name}: key ${ref.reqStr("key")} of ${ref.reqStr("name")} is not in this file`,
      );
    }
    env.push(`${name}=${found.toString("utf8")}`);
  }
  return env;
}

/** A container's ports: named ones into the pod's `containerPorts`, hostPorts into its bindings. */
function containerPortsOf(c: Reader, cwhat: string, { p, portBindings, containerPorts }: PodContext): void {
  for (const port of c.list("ports")) {
    port.only(["containerPort", "hostPort", "hostIP", "protocol", "name"]);
    const containerPort = portNumber(port, "containerPort", cwhat);
    const proto = portProtocol(port, cwhat).toLowerCase();
    const pname = port.str("name");
    if (pname !== undefined) containerPorts.set(pname, containerPort);
    const hostPort = port.num("hostPort");
    if (hostPort !== undefined && p.publishes) {
      const key = `${containerPort}/${proto}`;
      const binding: PortBinding = { HostPort: String(hostPort) };
      const ip = port.str("hostIP");
      if (ip) binding.HostIp = ip;
      bindingsOf(portBindings, key).push(binding);
    }
  }
}

/** A livenessProbe as a healthcheck (exec probes only); undefined without one. */
function livenessHealthcheck(c: Reader, cwhat: string, warnings: string[]): PlannedContainer["healthcheck"] {
  const probe = c.obj("livenessProbe");
  if (!probe) return undefined;
  probe.only(["exec", "initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"]);
  const exec = probe.obj("exec");
  if (!exec) throw invalidArgument(`${cwhat}: livenessProbe supports exec only`);
  exec.only(["command"]);
  const command = exec.strList("command");
  if (!command || command.length === 0)
    throw invalidArgument(`${cwhat}: livenessProbe.exec.command is required`);
  const ns = (s: number | undefined) => (s !== undefined ? s * 1e9 : undefined);
  const healthcheck: NonNullable<PlannedContainer["healthcheck"]> = { Test: ["CMD", ...command] };
  const start = ns(probe.num("initialDelaySeconds"));
  const interval = ns(probe.num("periodSeconds"));
  const timeout = ns(probe.num("timeoutSeconds"));
  const retries = probe.num("failureThreshold");
  if (start !== undefined) healthcheck.StartPeriod = start;
  if (interval !== undefined) healthcheck.Interval = interval;
  if (timeout !== undefined) healthcheck.Timeout = timeout;
  if (retries !== undefined) healthcheck.Retries = retries;
  warnings.push(
    `${cwhat}: the liveness probe runs as a healthcheck; an unhealthy container is reported, not restarted`,
  );
  return healthcheck;
}

/** The files of a configMap or secret volume (`src`): its items, or every key of the object. */
function configVolumeFiles(src: Reader, isCm: boolean, vwhat: string, inv: Inventory): Map<string, Buffer> {
  src.only(
    isCm ? ["name", "items", "optional", "defaultMode"] : ["secretName", "items", "optional", "defaultMode"],
  );
  const ref = isCm ? src.reqStr("name") : src.reqStr("secretName");
  const optional = src.bool("optional") ?? false;
  const mode = src.num("defaultMode");
  if (mode !== undefined && mode !== 0o644)
    throw invalidArgument(`${vwhat}: defaultMode other than 0644 is not supported`);
  const found = (isCm ? inv.configMaps : inv.secrets).get(ref);
  if (!found && !optional)
    throw invalidArgument(`${vwhat}: ${isCm ? "ConfigMap" : "Secret"} ${ref} is not in this file`);
  const files = new Map<string, Buffer>();
  const items = src.list("items");
  if (items.length > 0) {
    for (const it of items) {
      it.only(["key", "path"]);
      const key = it.reqStr("key");
      const path = it.reqStr("path");
      if (path.startsWith("/") || path.split("/").includes(".."))
        throw invalidArgument(`${vwhat}: item path ${path} must be relative, without '..'`);
      const data = found?.data.get(key);
      if (data === undefined) {
        if (!optional) throw invalidArgument(`${vwhat}: key ${key} is not in ${ref}`);
        continue;
      }
      files.set(path, data);
    }
  } else for (const [k, d] of found?.data ?? []) files.set(k, d);
  return files;
}
