/**
 * Image references (`docker.io/library/node:20@sha256:…`), parsed and normalised with the grammar
 * and the error messages of Docker's distribution/reference package (`ParseNormalizedNamed`,
 * `ParseAnyReference`, `FamiliarName`, `FamiliarString`, `TagNameOnly`).
 *
 * An image *reference* names an image in a repository; an image *ID* is the digest of its config.
 * `parseImageArgument` decides which one a command-line argument is, as Docker does.
 * Pure: it never resolves a name against a registry or the store.
 */
import { invalidArgument } from "../base/errors.js";
import type { Digest } from "./digest.js";

/** A parsed, normalised image reference. */
export interface Reference {
  /** Registry host with optional port, e.g. `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. `library/node`. */
  readonly path: string;
  /** Tag, if the reference has one. */
  readonly tag?: string;
  /** Manifest digest, if the reference has one. */
  readonly digest?: Digest;
}

/** What `ParseAnyReference` yields: a named reference, or a bare digest (an image ID). */
export type AnyReference =
  | { readonly kind: "named"; readonly reference: Reference }
  | { readonly kind: "digest"; readonly digest: Digest };

export const DEFAULT_DOMAIN = "docker.io";
export const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
export const OFFICIAL_REPO_PREFIX = "library/";
export const DEFAULT_TAG = "latest";
/** Longest repository path (without domain) distribution/reference accepts. */
export const REPOSITORY_NAME_MAX_LENGTH = 255;

// The grammar of distribution/reference (regexp.go), written out as regular expressions.
const ALPHANUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6_ADDRESS = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** go-digest's `DigestRegexpAnchored`: the shape of any digest, whatever its algorithm. */
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Docker's image-ID prefix rule (moby daemon/containerd `truncatedID`). */
const TRUNCATED_ID_RE = /^(?:sha256:)?([a-f0-9]{4,64})$/;

/**
 * Validates a digest with go-digest's rules and messages. Only sha256 is available: Docker also
 * accepts sha384/sha512 digests, which berth reports as "unsupported digest algorithm".
 * Returns the error message, or undefined when the digest is valid.
 */
function digestProblem(s: string): string | undefined {
  const i = s.indexOf(":");
  if (i <= 0 || i + 1 === s.length) return "invalid checksum digest format";
  const algorithm = s.slice(0, i);
  const encoded = s.slice(i + 1);
  if (algorithm !== "sha256") {
    return ANY_DIGEST_RE.test(s) ? "unsupported digest algorithm" : "invalid checksum digest format";
  }
  if (encoded.length !== 64) return "invalid checksum digest length";
  if (!/^[a-f0-9]{64}$/.test(encoded)) return "invalid checksum digest format";
  return undefined;
}

function asDigest(s: string): Digest | undefined {
  return digestProblem(s) === undefined ? (s as Digest) : undefined;
}

/**
 * distribution/reference `Parse`: parses a reference that is already in canonical form (no
 * normalisation). Exported for callers holding fully qualified names (stored records, the
 * registry client); user input goes through `parseNormalizedNamed`.
 */
export function parseReference(s: string): Reference {
  if (s === "") throw invalidArgument("repository name must have at least one component");
  // The expressions have no nested ambiguous repetition; reference.test.ts times hostile input.
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) {
      throw invalidArgument("repository name must be lowercase");
    }
    throw invalidArgument("invalid reference format");
  }
  const name = m[1] ?? "";
  const nameMatch = ANCHORED_NAME_RE.exec(name);
  const domain = nameMatch?.[1] ?? "";
  const path = nameMatch?.[2] ?? name;
  if (path.length > REPOSITORY_NAME_MAX_LENGTH) {
    throw invalidArgument(`repository name must not be more than ${REPOSITORY_NAME_MAX_LENGTH} characters`);
  }
  let digest: Digest | undefined;
  if (m[3] !== undefined) {
    const problem = digestProblem(m[3]);
    if (problem !== undefined) throw invalidArgument(problem);
    digest = m[3] as Digest;
  }
  return build(domain, path, m[2], digest);
}

function build(domain: string, path: string, tag: string | undefined, digest: Digest | undefined): Reference {
  const ref: { domain: string; path: string; tag?: string; digest?: Digest } = { domain, path };
  if (tag !== undefined && tag !== "") ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** distribution/reference `splitDockerDomain`. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf("/");
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemainder = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    domain = DEFAULT_DOMAIN;
    remainder = maybeRemainder;
  } else if (
    maybeDomain === "localhost" ||
    /[.:]/.test(maybeDomain) ||
    maybeDomain.toLowerCase() !== maybeDomain
  ) {
    domain = maybeDomain;
    remainder = maybeRemainder;
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * distribution/reference `ParseNormalizedNamed`: parses what a user typed (`node`, `u/app:1`,
 * `localhost:5000/a/b:tag`, `name@sha256:…`, `name:tag@sha256:…`) into a fully qualified
 * reference: Docker Hub names get `docker.io` and, for official images, `library/`;
 * `index.docker.io` becomes `docker.io`. No default tag is added (see `withDefaultTag`).
 *
 * One deliberate difference: when the first component is taken as a domain (it has `.`) but is
 * not a valid host (`a_b.c/x`), Docker yields a reference with an empty domain; berth rejects it
 * with "invalid reference format".
 */
export function parseNormalizedNamed(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) {
    throw invalidArgument(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(":");
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw invalidArgument(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const ref = parseReference(`${domain}/${remainder}`);
  if (ref.domain === "") throw invalidArgument("invalid reference format");
  return ref;
}

/**
 * distribution/reference `ParseAnyReference`: a 64-hex string or a full digest is an image ID
 * (a digest reference); anything else is parsed with `parseNormalizedNamed`.
 */
export function parseAnyReference(s: string): AnyReference {
  if (IDENTIFIER_RE.test(s)) return { kind: "digest", digest: `sha256:${s}` as Digest };
  const digest = asDigest(s);
  if (digest !== undefined) return { kind: "digest", digest };
  return { kind: "named", reference: parseNormalizedNamed(s) };
}

/** `domain/path`, the repository a reference is in (distribution/reference `Name()`). */
export function repositoryName(ref: Reference): string {
  return ref.domain === "" ? ref.path : `${ref.domain}/${ref.path}`;
}

/** The full reference: `docker.io/library/node:20@sha256:…` (distribution/reference `String()`). */
export function referenceString(ref: Reference): string {
  return suffixed(repositoryName(ref), ref);
}

function suffixed(name: string, ref: Reference): string {
  let out = name;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/**
 * The name as Docker shows it: `docker.io/library/node` → `node`, `docker.io/u/app` → `u/app`;
 * other registries unchanged. `library/` is dropped only when nothing follows it but one component.
 */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes("/")) return rest;
  }
  return ref.path;
}

/** The reference as Docker shows it: familiar name plus `:tag` and `@digest`. */
export function familiarString(ref: Reference): string {
  return suffixed(familiarName(ref), ref);
}

/** distribution/reference `TagNameOnly`: adds tag `latest` when there is neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/** The repository alone, without tag or digest (distribution/reference `TrimNamed`). */
export function trimReference(ref: Reference): Reference {
  return { domain: ref.domain, path: ref.path };
}

/** Returns `ref` with `tag` (validated with the tag grammar), keeping any digest. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!ANCHORED_TAG_RE.test(tag)) throw invalidArgument("invalid tag format");
  return build(ref.domain, ref.path, tag, ref.digest);
}

/** True when `s` is a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(s: string): boolean {
  return ANCHORED_TAG_RE.test(s);
}

/**
 * How an image argument of `rmi`, `image inspect`, `run`, … is to be looked up.
 *
 * - `id`: the argument is a full image ID (64 hex, or `sha256:` + 64 hex); look it up by ID only.
 * - `reference`: look up `reference` (already given the default tag `latest` when it had neither
 *   tag nor digest). If nothing is found and `idPrefix` is set, look up the image whose ID starts
 *   with `idPrefix` (hex, without `sha256:`); more than one match is ambiguous.
 */
export type ImageArgument =
  | { readonly kind: "id"; readonly id: Digest }
  | { readonly kind: "reference"; readonly reference: Reference; readonly idPrefix?: string };

/**
 * Classifies an image argument the way Docker's daemon does (daemon/containerd image service):
 * `ParseAnyReference` first — a full ID is an ID; otherwise the string is a reference, tried
 * first; then, if the whole argument is 4 to 64 lowercase hex characters, optionally after
 * `sha256:`, it is also tried as an ID prefix. So `abcd` means the tag `abcd:latest` if it exists,
 * else the image whose ID starts with `abcd`; `abc` is only ever a reference. Errors are the
 * reference parser's (kind InvalidArgument).
 */
export function parseImageArgument(s: string): ImageArgument {
  const any = parseAnyReference(s);
  if (any.kind === "digest") return { kind: "id", id: any.digest };
  const reference = withDefaultTag(any.reference);
  const prefix = TRUNCATED_ID_RE.exec(s)?.[1];
  return prefix === undefined
    ? { kind: "reference", reference }
    : { kind: "reference", reference, idPrefix: prefix };
}
