/**
 * Facts about the machine berth runs on, in the OCI/Go vocabulary.
 * Pure: the facts are passed in by the caller; it never probes the machine itself.
 */

/** Node's process.arch → GOARCH, the names images and platforms use. */
const GOARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

export interface HostPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** The platform images are made for and pulled for when none is asked. */
export function hostPlatform(): HostPlatform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  return { os: "linux", architecture, ...(architecture === "arm64" ? { variant: "v8" } : {}) };
}
