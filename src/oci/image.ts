/**
 * The image model: descriptors, manifests (OCI image manifest and Docker schema 2, one shape),
 * indexes (OCI image index and Docker manifest list, one shape) and image configs, with strict
 * decoders for untrusted bytes and deterministic encoders for the bytes berth writes.
 *
 * Decoders enforce what security-anchors.md §5 items 6–7 ask: a size bound, an object at the top,
 * typed required fields, valid digests, non-negative sizes, no document that is both an index and
 * a manifest, no body `mediaType` contradicting the expected one, no schema 1. Unknown members
 * are ignored (as Go's encoding/json does), except top-level members that differ from a known
 * one only by case, which Go would read as that member: those are refused, so berth and Docker
 * cannot read one document two ways.
 */
import { Buffer } from "node:buffer";
import { invalidArgument } from "../base/errors.js";
import { canonicalJson, type JsonValue, sortedMap } from "./canonical-json.js";
import { type Digest, parseDigest, sha256Digest } from "./digest.js";
import { type JsonObject, JsonReader, join } from "./json-reader.js";
import { MAX_DOCUMENT_BYTES } from "./limits.js";
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  OCI_INDEX,
  OCI_MANIFEST,
} from "./media-types.js";
import { type Platform, platformRank } from "./platform.js";

export { MEDIA_TYPES } from "./media-types.js";
export type { Platform } from "./platform.js";

/** Default bound on manifests, indexes and configs (oci/limits.ts, for reading and writing). */
export { MAX_DOCUMENT_BYTES };

/** A content descriptor: what a blob is, its digest and size (OCI image spec, descriptor.md). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  /** The blob's bytes, base64; when present they were checked against digest and size. */
  readonly data?: string;
  /** Only in index entries: the platform the manifest is for. */
  readonly platform?: Platform;
  readonly artifactType?: string;
}

/** An image manifest: OCI `application/vnd.oci.image.manifest.v1+json` or Docker schema 2. */
export interface ImageManifest {
  readonly schemaVersion: 2;
  /** Optional in OCI documents; always set by Docker schema 2. */
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  /** Base layer first. */
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An image index: OCI `application/vnd.oci.image.index.v1+json` or a Docker manifest list. */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Docker's health check of an image (durations in nanoseconds, as Go's time.Duration). */
export interface HealthConfig {
  /** `[]` inherit, `["NONE"]` disabled, `["CMD", …]` exec, `["CMD-SHELL", cmd]` shell. */
  readonly Test?: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/** A set in Docker's JSON form: a map whose values are empty objects. */
export type JsonSet = Readonly<Record<string, Readonly<Record<string, never>>>>;

/**
 * The execution parameters of an image (the config's `config` member). Members are declared in
 * the order of Docker's container.Config, which is the order berth writes them.
 */
export interface ContainerConfig {
  readonly User?: string;
  /** `"80/tcp"` → `{}`. */
  readonly ExposedPorts?: JsonSet;
  readonly Env?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Healthcheck?: HealthConfig;
  readonly ArgsEscaped?: boolean;
  /** Mount points, `"/data"` → `{}`. */
  readonly Volumes?: JsonSet;
  readonly WorkingDir?: string;
  readonly Entrypoint?: readonly string[];
  readonly OnBuild?: readonly string[];
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly Shell?: readonly string[];
}

/** One step of an image's history. */
export interface HistoryEntry {
  /** RFC 3339 time, kept as written (nanosecond precision survives). */
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  /** True when the step made no layer (ENV, CMD, …). */
  readonly empty_layer?: boolean;
}

/** The layers of an image by their uncompressed digests. */
export interface RootFs {
  readonly type: "layers";
  readonly diff_ids: readonly Digest[];
}

/**
 * An image config (OCI `application/vnd.oci.image.config.v1+json` and Docker's
 * `application/vnd.docker.container.image.v1+json`). The image ID is the sha256 of its bytes.
 * Members are declared in lexical order, which is the order berth writes them (Docker writes the
 * top level of its configs sorted too). The Docker-only members are optional.
 */
export interface ImageConfig {
  readonly architecture: string;
  readonly author?: string;
  /** Docker: the `docker commit -m` message. */
  readonly comment?: string;
  readonly config?: ContainerConfig;
  /** Docker: ID of the container the image was committed from. */
  readonly container?: string;
  /** Docker: the config of that container. */
  readonly container_config?: ContainerConfig;
  /** RFC 3339 time, kept as written. */
  readonly created?: string;
  /** Docker: version of the engine that built the image. */
  readonly docker_version?: string;
  readonly history?: readonly HistoryEntry[];
  readonly os: string;
  readonly "os.features"?: readonly string[];
  readonly "os.version"?: string;
  readonly rootfs: RootFs;
  readonly variant?: string;
}

/** Options of the decoders. */
export interface DecodeOptions {
  /** Largest document accepted, in bytes; default MAX_DOCUMENT_BYTES. */
  readonly maxBytes?: number;
}

/** Options of the manifest and index decoders. */
export interface ManifestDecodeOptions extends DecodeOptions {
  /**
   * The media type the document is expected to have: the descriptor's `mediaType` or the
   * registry's `Content-Type` (parameters after `;` are ignored). Leave it unset when the source
   * gave only a generic type (`application/json`, `application/octet-stream`).
   */
  readonly expectedMediaType?: string;
}

/** A decoded manifest or index, with the media type it was read as. */
export type ManifestOrIndex =
  | { readonly kind: "manifest"; readonly mediaType: string; readonly manifest: ImageManifest }
  | { readonly kind: "index"; readonly mediaType: string; readonly index: ImageIndex };

// ---------------------------------------------------------------------------------------------
// Decoding

const RFC3339 =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function readDigest(r: JsonReader, v: unknown, where: string): Digest {
  const s = r.string(v, where);
  try {
    return parseDigest(s);
  } catch (err) {
    return r.fail(where, err instanceof Error ? err.message : String(err));
  }
}

function readTime(r: JsonReader, o: JsonObject, key: string, where: string): string | undefined {
  const s = r.optString(o, key, where);
  if (s !== undefined && !RFC3339.test(s)) r.fail(join(where, key), "expected an RFC 3339 time");
  return s;
}

/** Builds an object from entries, leaving out undefined values (exact optional members). */
function compact<T>(entries: { [K in keyof T]: T[K] }): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  return out as T;
}

function readPlatform(r: JsonReader, v: unknown, where: string): Platform {
  const o = r.object(v, where);
  return compact<Platform>({
    architecture: r.string(o["architecture"], join(where, "architecture")),
    os: r.string(o["os"], join(where, "os")),
    "os.version": r.optString(o, "os.version", where),
    "os.features": r.optStrings(o, "os.features", where),
    variant: r.optString(o, "variant", where),
    features: r.optStrings(o, "features", where),
  });
}

function readDescriptor(r: JsonReader, v: unknown, where: string): Descriptor {
  const o = r.object(v, where);
  const digest = readDigest(r, o["digest"], join(where, "digest"));
  const size = r.nonNegativeInteger(o["size"], join(where, "size"));
  const data = r.optString(o, "data", where);
  if (data !== undefined) {
    if (!BASE64.test(data)) r.fail(join(where, "data"), "expected base64");
    const bytes = Buffer.from(data, "base64");
    if (bytes.byteLength !== size || sha256Digest(bytes) !== digest) {
      r.fail(join(where, "data"), "does not match the descriptor's digest and size");
    }
  }
  return compact<Descriptor>({
    mediaType: r.string(o["mediaType"], join(where, "mediaType")),
    digest,
    size,
    urls: r.optStrings(o, "urls", where),
    annotations: r.optStringMap(o, "annotations", where),
    data,
    platform:
      o["platform"] === undefined || o["platform"] === null
        ? undefined
        : readPlatform(r, o["platform"], join(where, "platform")),
    artifactType: r.optString(o, "artifactType", where),
  });
}

function readOptDescriptor(r: JsonReader, o: JsonObject, key: string): Descriptor | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : readDescriptor(r, v, key);
}

function readDescriptors(r: JsonReader, o: JsonObject, key: string): Descriptor[] {
  return r.array(o[key], key).map((d, i) => readDescriptor(r, d, `${key}[${i}]`));
}

const MANIFEST_KEYS = [
  "schemaVersion",
  "mediaType",
  "artifactType",
  "config",
  "layers",
  "manifests",
  "subject",
  "annotations",
  "fsLayers",
  "signatures",
  "history",
  "name",
  "tag",
  "architecture",
];

type DocumentKind = "manifest" | "index";

function kindOfMediaType(mediaType: string): DocumentKind | undefined {
  if (isManifestMediaType(mediaType)) return "manifest";
  if (isIndexMediaType(mediaType)) return "index";
  return undefined;
}

/**
 * Reads the top of a manifest or index and decides which it is, refusing every ambiguity:
 * schema 1, case-variant member names, both `manifests` and `layers`/`config`, a body
 * `mediaType` that contradicts the expected one or the document's shape.
 */
function classify(
  bytes: Uint8Array,
  options: ManifestDecodeOptions | undefined,
  r: JsonReader,
): { doc: JsonObject; kind: DocumentKind; mediaType: string } {
  const expected = options?.expectedMediaType?.split(";")[0]?.trim();
  if (expected !== undefined && isSchema1MediaType(expected))
    r.fail("", "schema 1 manifests are not supported");
  const doc = r.parse(bytes, options?.maxBytes ?? MAX_DOCUMENT_BYTES);
  const bodyType = r.optString(doc, "mediaType", "");
  if (
    doc["schemaVersion"] === 1 ||
    doc["fsLayers"] !== undefined ||
    (bodyType !== undefined && isSchema1MediaType(bodyType))
  ) {
    r.fail("", "schema 1 manifests are not supported");
  }
  for (const key of Object.keys(doc)) {
    const known = MANIFEST_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    if (known !== undefined && known !== key) r.fail(key, `member name differs from ${known} only by case`);
  }
  const hasManifests = doc["manifests"] !== undefined;
  const hasManifestMembers = doc["layers"] !== undefined || doc["config"] !== undefined;
  if (hasManifests && hasManifestMembers) {
    r.fail("", "document has both manifests and layers/config: it is neither a manifest nor an index");
  }
  const shapeKind: DocumentKind | undefined = hasManifests
    ? "index"
    : hasManifestMembers
      ? "manifest"
      : undefined;

  let kind: DocumentKind | undefined;
  if (expected !== undefined) {
    kind = kindOfMediaType(expected);
    if (kind === undefined) r.fail("", `unsupported manifest media type ${JSON.stringify(expected)}`);
    if (bodyType !== undefined && bodyType !== expected) {
      r.fail("mediaType", `${JSON.stringify(bodyType)} contradicts the expected ${JSON.stringify(expected)}`);
    }
  } else if (bodyType !== undefined) {
    kind = kindOfMediaType(bodyType);
    if (kind === undefined)
      r.fail("mediaType", `unsupported manifest media type ${JSON.stringify(bodyType)}`);
  } else {
    kind = shapeKind;
    if (kind === undefined) r.fail("", "document has neither manifests nor layers");
  }
  if (shapeKind !== undefined && shapeKind !== kind) r.fail("", `expected ${kind} but found ${shapeKind}`);

  if (doc["schemaVersion"] !== 2) r.fail("schemaVersion", "expected 2");
  const mediaType = expected ?? bodyType ?? (kind === "index" ? OCI_INDEX : OCI_MANIFEST);
  return { doc, kind, mediaType };
}

function decodeManifest(r: JsonReader, doc: JsonObject): ImageManifest {
  return compact<ImageManifest>({
    schemaVersion: 2,
    mediaType: r.optString(doc, "mediaType", ""),
    artifactType: r.optString(doc, "artifactType", ""),
    config: readDescriptor(r, doc["config"], "config"),
    layers: readDescriptors(r, doc, "layers"),
    subject: readOptDescriptor(r, doc, "subject"),
    annotations: r.optStringMap(doc, "annotations", ""),
  });
}

function decodeIndex(r: JsonReader, doc: JsonObject): ImageIndex {
  return compact<ImageIndex>({
    schemaVersion: 2,
    mediaType: r.optString(doc, "mediaType", ""),
    artifactType: r.optString(doc, "artifactType", ""),
    manifests: readDescriptors(r, doc, "manifests"),
    subject: readOptDescriptor(r, doc, "subject"),
    annotations: r.optStringMap(doc, "annotations", ""),
  });
}

/**
 * Decodes an image manifest (OCI or Docker schema 2) from untrusted bytes. Throws
 * InvalidArgument for an index ("expected manifest but found index"), schema 1, a contradicting
 * media type, or any malformed member.
 */
export function parseManifest(bytes: Uint8Array, options?: ManifestDecodeOptions): ImageManifest {
  const r = new JsonReader("invalid image manifest");
  const { doc, kind } = classify(bytes, options, r);
  if (kind !== "manifest") r.fail("", "expected manifest but found index");
  return decodeManifest(r, doc);
}

/** Decodes an image index (OCI or Docker manifest list) from untrusted bytes; see parseManifest. */
export function parseIndex(bytes: Uint8Array, options?: ManifestDecodeOptions): ImageIndex {
  const r = new JsonReader("invalid image index");
  const { doc, kind } = classify(bytes, options, r);
  if (kind !== "index") r.fail("", "expected index but found manifest");
  return decodeIndex(r, doc);
}

/**
 * Decodes a manifest or an index, deciding by the expected media type, else the body's
 * `mediaType`, else the shape (`manifests` → index, `config`/`layers` → manifest). The returned
 * `mediaType` is the one decided on (OCI's when the document named none).
 */
export function parseManifestOrIndex(bytes: Uint8Array, options?: ManifestDecodeOptions): ManifestOrIndex {
  const r = new JsonReader("invalid manifest");
  const { doc, kind, mediaType } = classify(bytes, options, r);
  if (kind === "index") {
    return { kind, mediaType, index: decodeIndex(new JsonReader("invalid image index"), doc) };
  }
  return { kind, mediaType, manifest: decodeManifest(new JsonReader("invalid image manifest"), doc) };
}

/** Docker's strslice: a JSON array of strings, or one string meaning a one-element array. */
function readStrSlice(r: JsonReader, o: JsonObject, key: string, where: string): string[] | undefined {
  const v = o[key];
  if (typeof v === "string") return [v];
  return r.optStrings(o, key, where);
}

function readHealthcheck(r: JsonReader, v: unknown, where: string): HealthConfig {
  const o = r.object(v, where);
  return compact<HealthConfig>({
    Test: r.optStrings(o, "Test", where),
    Interval: r.optInteger(o, "Interval", where),
    Timeout: r.optInteger(o, "Timeout", where),
    StartPeriod: r.optInteger(o, "StartPeriod", where),
    StartInterval: r.optInteger(o, "StartInterval", where),
    Retries: r.optInteger(o, "Retries", where),
  });
}

function readContainerConfig(r: JsonReader, v: unknown, where: string): ContainerConfig {
  const o = r.object(v, where);
  const hc = o["Healthcheck"];
  return compact<ContainerConfig>({
    User: r.optString(o, "User", where),
    ExposedPorts: r.optSet(o, "ExposedPorts", where),
    Env: r.optStrings(o, "Env", where),
    Cmd: readStrSlice(r, o, "Cmd", where),
    Healthcheck:
      hc === undefined || hc === null ? undefined : readHealthcheck(r, hc, join(where, "Healthcheck")),
    ArgsEscaped: r.optBoolean(o, "ArgsEscaped", where),
    Volumes: r.optSet(o, "Volumes", where),
    WorkingDir: r.optString(o, "WorkingDir", where),
    Entrypoint: readStrSlice(r, o, "Entrypoint", where),
    OnBuild: r.optStrings(o, "OnBuild", where),
    Labels: r.optStringMap(o, "Labels", where),
    StopSignal: r.optString(o, "StopSignal", where),
    Shell: r.optStrings(o, "Shell", where),
  });
}

function readHistory(r: JsonReader, v: unknown, where: string): HistoryEntry {
  const o = r.object(v, where);
  return compact<HistoryEntry>({
    created: readTime(r, o, "created", where),
    created_by: r.optString(o, "created_by", where),
    author: r.optString(o, "author", where),
    comment: r.optString(o, "comment", where),
    empty_layer: r.optBoolean(o, "empty_layer", where),
  });
}

/**
 * Decodes an image config from untrusted bytes. Required: `architecture`, `os` (strings) and
 * `rootfs` with type `layers` and valid `diff_ids`. Docker's leniencies are kept: `null` for an
 * absent member, a single string for `Cmd`/`Entrypoint`.
 */
export function parseImageConfig(bytes: Uint8Array, options?: DecodeOptions): ImageConfig {
  const r = new JsonReader("invalid image config");
  const doc = r.parse(bytes, options?.maxBytes ?? MAX_DOCUMENT_BYTES);
  const rootfs = r.object(doc["rootfs"], "rootfs");
  if (rootfs["type"] !== "layers") r.fail("rootfs.type", 'expected "layers"');
  const diffIds = r
    .array(rootfs["diff_ids"], "rootfs.diff_ids")
    .map((d, i) => readDigest(r, d, `rootfs.diff_ids[${i}]`));
  const config = doc["config"];
  const containerConfig = doc["container_config"];
  const history = doc["history"];
  return compact<ImageConfig>({
    architecture: r.string(doc["architecture"], "architecture"),
    author: r.optString(doc, "author", ""),
    comment: r.optString(doc, "comment", ""),
    config: config === undefined || config === null ? undefined : readContainerConfig(r, config, "config"),
    container: r.optString(doc, "container", ""),
    container_config:
      containerConfig === undefined || containerConfig === null
        ? undefined
        : readContainerConfig(r, containerConfig, "container_config"),
    created: readTime(r, doc, "created", ""),
    docker_version: r.optString(doc, "docker_version", ""),
    history:
      history === undefined || history === null
        ? undefined
        : r.array(history, "history").map((h, i) => readHistory(r, h, `history[${i}]`)),
    os: r.string(doc["os"], "os"),
    "os.features": r.optStrings(doc, "os.features", ""),
    "os.version": r.optString(doc, "os.version", ""),
    rootfs: { type: "layers", diff_ids: diffIds },
    variant: r.optString(doc, "variant", ""),
  });
}

// ---------------------------------------------------------------------------------------------
// Encoding

function strings(v: readonly string[] | undefined): JsonValue | undefined {
  return v === undefined ? undefined : [...v];
}

function platformJson(p: Platform): JsonValue {
  return {
    architecture: p.architecture,
    os: p.os,
    "os.version": p["os.version"],
    "os.features": strings(p["os.features"]),
    variant: p.variant,
    features: strings(p.features),
  };
}

function descriptorJson(d: Descriptor): JsonValue {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    urls: strings(d.urls),
    annotations: sortedMap(d.annotations),
    data: d.data,
    platform: d.platform === undefined ? undefined : platformJson(d.platform),
    artifactType: d.artifactType,
  };
}

function setJson(s: JsonSet | undefined): JsonValue | undefined {
  if (s === undefined) return undefined;
  const out = new Map<string, JsonValue>();
  for (const key of sortedMap(s)?.keys() ?? []) out.set(key, {});
  return out;
}

function containerConfigJson(c: ContainerConfig): JsonValue {
  const hc = c.Healthcheck;
  return {
    User: c.User,
    ExposedPorts: setJson(c.ExposedPorts),
    Env: strings(c.Env),
    Cmd: strings(c.Cmd),
    Healthcheck:
      hc === undefined
        ? undefined
        : {
            Test: strings(hc.Test),
            Interval: hc.Interval,
            Timeout: hc.Timeout,
            StartPeriod: hc.StartPeriod,
            StartInterval: hc.StartInterval,
            Retries: hc.Retries,
          },
    ArgsEscaped: c.ArgsEscaped,
    Volumes: setJson(c.Volumes),
    WorkingDir: c.WorkingDir,
    Entrypoint: strings(c.Entrypoint),
    OnBuild: strings(c.OnBuild),
    Labels: sortedMap(c.Labels),
    StopSignal: c.StopSignal,
    Shell: strings(c.Shell),
  };
}

/** The bytes berth writes for an image config; its sha256 is the image ID. */
export function encodeImageConfig(c: ImageConfig): Uint8Array {
  return canonicalJson({
    architecture: c.architecture,
    author: c.author,
    comment: c.comment,
    config: c.config === undefined ? undefined : containerConfigJson(c.config),
    container: c.container,
    container_config: c.container_config === undefined ? undefined : containerConfigJson(c.container_config),
    created: c.created,
    docker_version: c.docker_version,
    history:
      c.history === undefined
        ? undefined
        : c.history.map((h) => ({
            created: h.created,
            created_by: h.created_by,
            author: h.author,
            comment: h.comment,
            empty_layer: h.empty_layer,
          })),
    os: c.os,
    "os.features": strings(c["os.features"]),
    "os.version": c["os.version"],
    rootfs: { type: c.rootfs.type, diff_ids: [...c.rootfs.diff_ids] },
    variant: c.variant,
  });
}

/** The bytes berth writes for a manifest (OCI field order). */
export function encodeManifest(m: ImageManifest): Uint8Array {
  return canonicalJson({
    schemaVersion: m.schemaVersion,
    mediaType: m.mediaType,
    artifactType: m.artifactType,
    config: descriptorJson(m.config),
    layers: m.layers.map(descriptorJson),
    subject: m.subject === undefined ? undefined : descriptorJson(m.subject),
    annotations: sortedMap(m.annotations),
  });
}

/** The bytes berth writes for an index (OCI field order). */
export function encodeIndex(i: ImageIndex): Uint8Array {
  return canonicalJson({
    schemaVersion: i.schemaVersion,
    mediaType: i.mediaType,
    artifactType: i.artifactType,
    manifests: i.manifests.map(descriptorJson),
    subject: i.subject === undefined ? undefined : descriptorJson(i.subject),
    annotations: sortedMap(i.annotations),
  });
}

/** A descriptor for bytes about to be stored. */
export function describe(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength };
}

// ---------------------------------------------------------------------------------------------
// Queries

/**
 * Picks the manifest of an index for a platform, as a pull does: the entry whose platform ranks
 * best among those `wanted` can run (exact match first, then older variants, then 32-bit
 * relatives); entries without a platform are skipped; ties go to the earlier entry. Undefined
 * when nothing matches.
 */
export function selectManifest(index: ImageIndex, wanted: Platform): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const d of index.manifests) {
    if (d.platform === undefined) continue;
    const rank = platformRank(wanted, d.platform);
    if (rank !== undefined && rank < bestRank) {
      best = d;
      bestRank = rank;
    }
  }
  return best;
}

/** The Docker media type family of a manifest or index media type ("oci" or "docker"). */
export function mediaTypeFamily(mediaType: string): "oci" | "docker" {
  return mediaType === DOCKER_MANIFEST || mediaType === DOCKER_MANIFEST_LIST ? "docker" : "oci";
}

/**
 * Checks that a manifest and its config agree: as many layers as diff IDs (containerd: "number
 * of layers and diffIDs don't match").
 */
export function checkLayerCount(manifest: ImageManifest, config: ImageConfig): void {
  if (manifest.layers.length !== config.rootfs.diff_ids.length) {
    throw invalidArgument(
      `number of layers and diffIDs don't match: ${manifest.layers.length} layers, ${config.rootfs.diff_ids.length} diffIDs`,
    );
  }
}
