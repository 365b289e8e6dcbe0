/**
 * GET /distribution/{name}/json: what a registry holds for a reference, without pulling it — the
 * manifest's (or index's) descriptor and the platforms it serves. For an index, the platforms of
 * its entries (attestation manifests, `unknown/unknown`, left out); for a single manifest, the
 * platform in its config blob.
 * It reads the registry only; it never writes to the store.
 */
import type { DistributionInspect, ImagePullOptions } from "../engine/types.js";
import { MAX_DOCUMENT_BYTES, parseImageConfig, parseManifestOrIndex } from "../oci/image.js";
import { parseNormalizedNamed, withDefaultTag } from "../oci/reference.js";
import { clientFor, type TransferContext } from "./transfer.js";

export async function inspectDistribution(
  reference: string,
  opts: Pick<ImagePullOptions, "auth" | "signal"> & TransferContext,
): Promise<DistributionInspect> {
  const ref = withDefaultTag(parseNormalizedNamed(reference));
  const client = clientFor(ref, { auth: opts.auth, context: opts });
  const fetched = await client.getManifest(ref.digest ?? ref.tag ?? "latest", opts.signal);
  const doc = parseManifestOrIndex(
    fetched.bytes,
    fetched.mediaType ? { expectedMediaType: fetched.mediaType } : {},
  );
  const Descriptor = { mediaType: doc.mediaType, digest: fetched.digest, size: fetched.bytes.byteLength };
  if (doc.kind === "index") {
    const Platforms = doc.index.manifests
      .map((m) => m.platform)
      .filter((p) => p !== undefined && p.os !== "unknown" && p.architecture !== "unknown")
      .map((p) => ({
        architecture: p?.architecture ?? "",
        os: p?.os ?? "",
        ...(p?.variant ? { variant: p.variant } : {}),
      }));
    return { Descriptor, Platforms };
  }
  const config = parseImageConfig(
    await client.readBlob(doc.manifest.config, MAX_DOCUMENT_BYTES, opts.signal),
  );
  return {
    Descriptor,
    Platforms: [
      {
        architecture: config.architecture,
        os: config.os,
        ...(config.variant ? { variant: config.variant } : {}),
      },
    ],
  };
}
