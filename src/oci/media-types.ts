/**
 * Media types of the OCI image spec (v1.1) and of Docker's image manifest v2 schema 2, and the
 * questions berth asks of them: is this a manifest, an index, a config, a layer, and how is a
 * layer compressed.
 * Pure: names and questions only; it never reads a blob.
 */
import { invalidArgument } from "../base/errors.js";

// OCI image spec, specs-go/v1/mediatype.go.
export const OCI_DESCRIPTOR = "application/vnd.oci.descriptor.v1+json";
export const OCI_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
export const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
/** Deprecated in OCI 1.1 ("non-distributable" layers); still read. */
export const OCI_LAYER_NONDISTRIBUTABLE_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar";
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP =
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD =
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

// Docker image manifest v2, schema 2.
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/** Uncompressed Docker layer (containerd's `MediaTypeDockerSchema2Layer`). */
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
/** Foreign (non-distributable, e.g. Windows base) layers. */
export const DOCKER_FOREIGN_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
export const DOCKER_FOREIGN_LAYER_TAR = "application/vnd.docker.image.rootfs.foreign.diff.tar";
/** Docker plugin config, seen in manifests of Docker plugins. */
export const DOCKER_PLUGIN_CONFIG = "application/vnd.docker.plugin.v1+json";

// Docker image manifest v2, schema 1: recognised only to be refused.
export const DOCKER_SCHEMA1_MANIFEST = "application/vnd.docker.distribution.manifest.v1+json";
export const DOCKER_SCHEMA1_SIGNED_MANIFEST = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/** Compression of a layer blob. */
export type LayerCompression = "none" | "gzip" | "zstd";

const LAYER_COMPRESSION: Readonly<Record<string, LayerCompression>> = {
  [OCI_LAYER_TAR]: "none",
  [OCI_LAYER_TAR_GZIP]: "gzip",
  [OCI_LAYER_TAR_ZSTD]: "zstd",
  [OCI_LAYER_NONDISTRIBUTABLE_TAR]: "none",
  [OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP]: "gzip",
  [OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD]: "zstd",
  [DOCKER_LAYER_TAR_GZIP]: "gzip",
  [DOCKER_FOREIGN_LAYER_TAR_GZIP]: "gzip",
  [DOCKER_LAYER_TAR]: "none",
  [DOCKER_FOREIGN_LAYER_TAR]: "none",
};

/** True for the manifest media types berth reads (OCI image manifest, Docker schema 2). */
export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** True for the index media types berth reads (OCI image index, Docker manifest list). */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

/** True for Docker schema 1 manifests, which berth refuses. */
export function isSchema1MediaType(mediaType: string): boolean {
  return mediaType === DOCKER_SCHEMA1_MANIFEST || mediaType === DOCKER_SCHEMA1_SIGNED_MANIFEST;
}

/** True for image config media types (OCI and Docker). */
export function isImageConfigMediaType(mediaType: string): boolean {
  return mediaType === OCI_CONFIG || mediaType === DOCKER_CONFIG;
}

/** True for a layer media type berth knows how to unpack. */
export function isLayerMediaType(mediaType: string): boolean {
  return Object.hasOwn(LAYER_COMPRESSION, mediaType);
}

/** True for non-distributable (foreign) layers, which registries may refuse to serve or store. */
export function isNonDistributableLayer(mediaType: string): boolean {
  return (
    mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR ||
    mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP ||
    mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD ||
    mediaType === DOCKER_FOREIGN_LAYER_TAR_GZIP ||
    mediaType === DOCKER_FOREIGN_LAYER_TAR
  );
}

/**
 * The compression of a layer from its media type. Throws (InvalidArgument) for any other media
 * type, so an unknown layer is never unpacked. The uncompressed Docker types are reported as
 * "none", though containerd notes some producers put gzip data under them: the unpacker may
 * still check the gzip magic bytes.
 */
export function layerCompression(mediaType: string): LayerCompression {
  if (!Object.hasOwn(LAYER_COMPRESSION, mediaType)) {
    throw invalidArgument(`unsupported layer media type: ${mediaType}`);
  }
  return LAYER_COMPRESSION[mediaType]!;
}

/** The layer media type to write for a compression, in the OCI or Docker family. */
export function layerMediaType(compression: LayerCompression, family: "oci" | "docker" = "oci"): string {
  if (family === "docker") {
    if (compression === "gzip") return DOCKER_LAYER_TAR_GZIP;
    if (compression === "none") return DOCKER_LAYER_TAR;
    // Docker schema 2 has no zstd layer type; OCI's is what BuildKit writes there too.
    return OCI_LAYER_TAR_ZSTD;
  }
  if (compression === "gzip") return OCI_LAYER_TAR_GZIP;
  if (compression === "zstd") return OCI_LAYER_TAR_ZSTD;
  return OCI_LAYER_TAR;
}

/** The media types as one object, for callers that prefer `MEDIA_TYPES.ociManifest`. */
export const MEDIA_TYPES = {
  ociDescriptor: OCI_DESCRIPTOR,
  ociLayoutHeader: OCI_LAYOUT_HEADER,
  ociManifest: OCI_MANIFEST,
  ociIndex: OCI_INDEX,
  ociConfig: OCI_CONFIG,
  ociEmpty: OCI_EMPTY,
  ociLayer: OCI_LAYER_TAR,
  ociLayerGzip: OCI_LAYER_TAR_GZIP,
  ociLayerZstd: OCI_LAYER_TAR_ZSTD,
  ociLayerNondistributable: OCI_LAYER_NONDISTRIBUTABLE_TAR,
  ociLayerNondistributableGzip: OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
  ociLayerNondistributableZstd: OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
  dockerManifest: DOCKER_MANIFEST,
  dockerManifestList: DOCKER_MANIFEST_LIST,
  dockerConfig: DOCKER_CONFIG,
  dockerLayer: DOCKER_LAYER_TAR,
  dockerLayerGzip: DOCKER_LAYER_TAR_GZIP,
  dockerForeignLayer: DOCKER_FOREIGN_LAYER_TAR,
  dockerForeignLayerGzip: DOCKER_FOREIGN_LAYER_TAR_GZIP,
  dockerPluginConfig: DOCKER_PLUGIN_CONFIG,
  dockerSchema1Manifest: DOCKER_SCHEMA1_MANIFEST,
  dockerSchema1SignedManifest: DOCKER_SCHEMA1_SIGNED_MANIFEST,
} as const;
