/**
 * The one set of size bounds the engine applies to images and Dockerfiles, for reading and
 * writing alike: a reader refuses what exceeds them, and every writer (build, commit, import,
 * load, pull) checks the same bound before it records anything, so nothing berth writes is ever
 * refused when berth reads it back. Each bound is Docker's (or containerd's / BuildKit's /
 * distribution's, which Docker uses), cited where it is defined.
 */
import { invalidArgument } from "../base/errors.js";

/**
 * Manifests, indexes and image configs: containerd's `MaxManifestSize` (core/remotes/docker/
 * resolver.go, 4 * 1048 * 1048 = 4,393,216 bytes — the 1048 is containerd's), a little above the
 * 4 MiB distribution's registry accepts for a manifest body (registry/handlers/manifests.go
 * `maxManifestBodySize`). Labels, environment variables, history rows and every other config
 * field count against it: Docker has no separate bound for them.
 */
export const MAX_DOCUMENT_BYTES = 4 * 1048 * 1048;

/**
 * JSON documents of a `docker save` archive (manifest.json, index.json): containerd's importer
 * bound (core/images/archive/importer.go, 20 MiB).
 */
export const MAX_ARCHIVE_JSON_BYTES = 20 << 20;

/**
 * Layers in one image: Docker's layer store `maxLayerDepth` (moby layer/layer_store.go, 125;
 * "max depth exceeded").
 */
export const MAX_LAYERS = 125;

/**
 * One physical Dockerfile line: BuildKit reads the Dockerfile with a bufio.Scanner whose token
 * limit is `bufio.MaxScanTokenSize` (64 KiB), and reports "dockerfile line greater than max
 * allowed size of 65535" (frontend/dockerfile/parser/parser.go `handleScannerError`).
 */
export const MAX_DOCKERFILE_LINE_BYTES = 65535;

/**
 * A whole Dockerfile. Docker bounds only its physical lines; berth also bounds the file, at the
 * document bound, which bounds every instruction (a logical line, continuations joined) and
 * every heredoc in it, and so every history row a build writes.
 */
export const MAX_DOCKERFILE_BYTES = MAX_DOCUMENT_BYTES;

/**
 * Refuses a document the engine is about to write if it could not read it back. `what` names it
 * ("image config"); `hint` says what makes it grow.
 */
export function checkDocumentSize(what: string, bytes: number, hint = ""): void {
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw invalidArgument(
      `${what} of ${bytes} bytes exceeds the limit of ${MAX_DOCUMENT_BYTES} bytes${hint === "" ? "" : ` (${hint})`}`,
    );
  }
}

/** Refuses an image with more layers than Docker's layer store accepts. */
export function checkLayerCountLimit(layers: number): void {
  if (layers > MAX_LAYERS) {
    throw invalidArgument(
      `max depth exceeded: the image has ${layers} layers, more than the limit of ${MAX_LAYERS}`,
    );
  }
}
