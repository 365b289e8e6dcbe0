/**
 * Kubernetes manifests as YAML text: every document of a stream parsed strictly (a syntax error
 * names its line), and objects written as one stream of documents. Uses the `yaml` package
 * (YAML 1.2, the core schema Kubernetes' own parser reads).
 * It never interprets the objects (kube/play.ts and kube/generate.ts do).
 */
import { parseAllDocuments, stringify } from "yaml";
import { invalidArgument } from "../base/errors.js";

/** Largest manifest accepted (a manifest is configuration, not data). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function parseManifests(text: string, source: string): unknown[] {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES)
    throw invalidArgument(`${source}: larger than ${MAX_MANIFEST_BYTES} bytes`);
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      throw invalidArgument(
        `${source}${line !== undefined ? `:${line}` : ""}: ${err.message.split("\n")[0]}`,
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

export function stringifyManifests(objects: readonly object[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}
