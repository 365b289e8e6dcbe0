/**
 * Platforms (`linux/amd64`, `linux/arm/v7`): parsing the `--platform` specifier, normalising
 * aliases the way containerd's `platforms` package does, and matching manifest-list entries.
 * Pure: the host platform is always passed in by the caller.
 */
import { invalidArgument } from "../base/errors.js";

/** A platform in the shape of the OCI descriptor/config `platform` object. */
export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
  /** Reserved by the OCI spec for future use; carried through unchanged. */
  readonly features?: readonly string[];
}

const COMPONENT = /^[A-Za-z0-9_.-]+$/;
const KNOWN_OS = new Set([
  "aix",
  "android",
  "darwin",
  "dragonfly",
  "freebsd",
  "hurd",
  "illumos",
  "ios",
  "js",
  "linux",
  "nacl",
  "netbsd",
  "openbsd",
  "plan9",
  "solaris",
  "wasip1",
  "windows",
  "zos",
]);

function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === "macos" ? "darwin" : lower;
}

/** containerd `normalizeArch`: canonical architecture and variant names. */
function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case "i386":
    case "386":
      return { architecture: "386", variant: "" };
    case "x86_64":
    case "x86-64":
    case "amd64":
      return { architecture: "amd64", variant: v === "v1" ? "" : v };
    case "aarch64":
    case "arm64":
      if (v === "8" || v === "v8" || v === "v8.0") v = "";
      else if (v === "9" || v === "9.0" || v === "v9.0") v = "v9";
      return { architecture: "arm64", variant: v };
    case "armhf":
      return { architecture: "arm", variant: "v7" };
    case "armel":
      return { architecture: "arm", variant: "v6" };
    case "arm":
      if (v === "" || v === "7") v = "v7";
      else if (v === "5" || v === "6" || v === "8") v = `v${v}`;
      return { architecture: "arm", variant: v };
    default:
      return { architecture: a, variant: v };
  }
}

function make(os: string, architecture: string, variant: string, extra?: Platform): Platform {
  const p: {
    architecture: string;
    os: string;
    variant?: string;
    "os.version"?: string;
    "os.features"?: readonly string[];
    features?: readonly string[];
  } = { architecture, os };
  if (variant !== "") p.variant = variant;
  if (extra?.["os.version"] !== undefined) p["os.version"] = extra["os.version"];
  if (extra?.["os.features"] !== undefined) p["os.features"] = extra["os.features"];
  if (extra?.features !== undefined) p.features = extra.features;
  return p;
}

/**
 * Canonical form: lowercase, `macos`→`darwin`, `x86_64`→`amd64`, `aarch64`→`arm64` (variant `v8`
 * dropped), `armhf`→`arm/v7`, `armel`→`arm/v6`, bare `arm`→`arm/v7`, `i386`→`386`, `amd64/v1`→`amd64`.
 */
export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? "");
  return make(normalizeOs(p.os), architecture, variant, p);
}

/**
 * Parses a `--platform` specifier: `os/arch`, `os/arch/variant`, or a single component, which is
 * an OS (`linux`: the host's architecture) or else an architecture (`arm64`: the host's OS).
 * The result is normalised. `host` is needed only for the single-component form.
 */
export function parsePlatform(specifier: string, host?: Platform): Platform {
  const parts = specifier.split("/");
  if (specifier === "" || parts.length > 3 || parts.some((c) => !COMPONENT.test(c))) {
    throw invalidArgument(`invalid platform: ${JSON.stringify(specifier)}`);
  }
  if (parts.length === 1) {
    if (host === undefined) {
      throw invalidArgument(`invalid platform: ${JSON.stringify(specifier)}: needs os/architecture`);
    }
    const only = parts[0]!;
    const h = normalizePlatform(host);
    if (KNOWN_OS.has(normalizeOs(only))) {
      return normalizePlatform({ os: only, architecture: h.architecture, variant: h.variant ?? "" });
    }
    return normalizePlatform({ os: h.os, architecture: only });
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform({ os, architecture, variant: variant ?? "" });
}

/** `os/arch[/variant]` of a platform, normalised (`linux/arm64`, `linux/arm/v7`). */
export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  return n.variant === undefined ? `${n.os}/${n.architecture}` : `${n.os}/${n.architecture}/${n.variant}`;
}

function versionOf(variant: string | undefined): number | undefined {
  if (variant === undefined) return undefined;
  const m = /^v?([0-9]+)$/.exec(variant);
  return m ? Number(m[1]) : undefined;
}

/**
 * The platforms a machine of platform `wanted` can run, best first (containerd's `Only`
 * matcher): the platform itself, then older variants of the same architecture (amd64/v3 → v2 →
 * v1; arm/v7 → v6 → v5), then the 32-bit relatives (amd64 → 386; arm64 → arm/v8 … arm/v5).
 */
export function compatiblePlatforms(wanted: Platform): Platform[] {
  const w = normalizePlatform(wanted);
  const out: Platform[] = [w];
  const add = (architecture: string, variant: string) => out.push(make(w.os, architecture, variant, w));
  switch (w.architecture) {
    case "amd64": {
      const v = versionOf(w.variant);
      if (v !== undefined) for (let i = v - 1; i >= 1; i--) add("amd64", i === 1 ? "" : `v${i}`);
      add("386", "");
      break;
    }
    case "arm": {
      const v = versionOf(w.variant);
      if (v !== undefined) for (let i = v - 1; i >= 5; i--) add("arm", `v${i}`);
      break;
    }
    case "arm64": {
      const v = versionOf(w.variant);
      if (v !== undefined && v > 8) for (let i = v - 1; i >= 8; i--) add("arm64", i === 8 ? "" : `v${i}`);
      for (let i = 8; i >= 5; i--) add("arm", `v${i}`);
      break;
    }
  }
  return out;
}

function sameOsArchVariant(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}

/**
 * Where `candidate` ranks among the platforms `wanted` can run: 0 is an exact match (after
 * normalisation), higher is a fallback, undefined is no match. The OS version is not compared
 * (it matters only for Windows).
 */
export function platformRank(wanted: Platform, candidate: Platform): number | undefined {
  const c = normalizePlatform(candidate);
  const i = compatiblePlatforms(wanted).findIndex((p) => sameOsArchVariant(p, c));
  return i === -1 ? undefined : i;
}

/** True when a machine of platform `wanted` can run an image for `candidate`. */
export function matchPlatform(wanted: Platform, candidate: Platform): boolean {
  return platformRank(wanted, candidate) !== undefined;
}
