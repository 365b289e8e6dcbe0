/**
 * A container's mounts from its request, as Docker resolves them at create: `Binds` (-v),
 * `Mounts` (--mount), `Tmpfs` (--tmpfs), and an anonymous volume for each image VOLUME not
 * covered by one of those. Parsing is pure; creating volumes is the caller's.
 */
import { posix } from "node:path";
import { invalidArgument } from "../base/errors.js";
import type { HostConfig, MountSpec } from "../engine/types.js";

/** One mount, resolved as far as the request allows (volume names may still be empty = anonymous). */
export interface PlannedMount {
  readonly type: "bind" | "volume" | "tmpfs";
  /** Host path (bind), volume name ("" = a new anonymous volume) or "tmpfs". */
  readonly source: string;
  readonly destination: string;
  readonly readOnly: boolean;
  /** -v style mode string, as inspect shows it ("ro", "z", …; "" by default). */
  readonly mode: string;
  /** Copy the image's content into an empty volume (false with volume-nocopy). */
  readonly copyData: boolean;
  /** tmpfs mount options (size=…, mode=…). */
  readonly tmpfsOptions?: readonly string[];
  /** A bind whose source must already exist (--mount), rather than be created (-v). */
  readonly mustExist?: boolean;
  /** Created for an image VOLUME rather than asked for. */
  readonly anonymousFromImage?: boolean;
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const MODES = new Set([
  "ro",
  "rw",
  "z",
  "Z",
  "nocopy",
  "shared",
  "rshared",
  "slave",
  "rslave",
  "private",
  "rprivate",
  "consistent",
  "cached",
  "delegated",
]);

function checkDestination(spec: string, dest: string, type: string): string {
  if (!posix.isAbsolute(dest)) {
    throw invalidArgument(
      `invalid volume specification: '${spec}': invalid mount config for type "${type}": invalid mount path: '${dest}' mount path must be absolute`,
    );
  }
  if (posix.normalize(dest) === "/") {
    throw invalidArgument(
      `invalid volume specification: '${spec}': invalid mount config for type "${type}": invalid specification: destination can't be '/'`,
    );
  }
  return posix.normalize(dest).replace(/\/$/, "");
}

/** Parses one `-v` value: `name:/dst[:mode]`, `/src:/dst[:mode]` or `/dst`. */
export function parseBind(spec: string): PlannedMount {
  const parts = spec.split(":");
  if (parts.length === 1) {
    const dest = checkDestination(spec, parts[0] as string, "volume");
    return { type: "volume", source: "", destination: dest, readOnly: false, mode: "", copyData: true };
  }
  if (parts.length > 3 || parts.some((p) => p === ""))
    throw invalidArgument(`invalid volume specification: '${spec}'`);
  const [src, dst, modeText = ""] = parts as [string, string, string?];
  const modes = modeText ? modeText.split(",") : [];
  for (const m of modes) if (!MODES.has(m)) throw invalidArgument(`invalid mode: ${m}`);
  const readOnly = modes.includes("ro");
  if (src.startsWith("/")) {
    const dest = checkDestination(spec, dst, "bind");
    return {
      type: "bind",
      source: posix.normalize(src),
      destination: dest,
      readOnly,
      mode: modeText,
      copyData: false,
    };
  }
  if (src.startsWith(".") || src.includes("/")) {
    throw invalidArgument(
      `create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
  if (!VOLUME_NAME.test(src)) {
    throw invalidArgument(
      `create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
  const dest = checkDestination(spec, dst, "volume");
  return {
    type: "volume",
    source: src,
    destination: dest,
    readOnly,
    mode: modeText,
    copyData: !modes.includes("nocopy"),
  };
}

function fromMountSpec(m: MountSpec): PlannedMount {
  const spec = `${m.Type}:${m.Target}`;
  if (!m.Target)
    throw invalidArgument(`invalid mount config for type "${m.Type}": field Target must not be empty`);
  const dest = checkDestination(spec, m.Target, m.Type);
  switch (m.Type) {
    case "bind":
      if (!m.Source)
        throw invalidArgument('invalid mount config for type "bind": field Source must not be empty');
      if (!posix.isAbsolute(m.Source))
        throw invalidArgument(
          `invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`,
        );
      return {
        type: "bind",
        source: posix.normalize(m.Source),
        destination: dest,
        readOnly: !!m.ReadOnly,
        mode: m.ReadOnly ? "ro" : "",
        copyData: false,
        mustExist: true,
      };
    case "volume":
      if (m.Source && !VOLUME_NAME.test(m.Source)) {
        throw invalidArgument(
          `create ${m.Source}: "${m.Source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
        );
      }
      return {
        type: "volume",
        source: m.Source ?? "",
        destination: dest,
        readOnly: !!m.ReadOnly,
        mode: m.ReadOnly ? "ro" : "z",
        copyData: !m.VolumeOptions?.NoCopy,
      };
    case "tmpfs": {
      if (m.Source)
        throw invalidArgument('invalid mount config for type "tmpfs": field Source must not be specified');
      const opts: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      return {
        type: "tmpfs",
        source: "tmpfs",
        destination: dest,
        readOnly: !!m.ReadOnly,
        mode: "",
        copyData: false,
        tmpfsOptions: opts,
      };
    }
  }
}

/** Every mount of a container, in Docker's precedence; duplicate destinations are refused. */
export function planMounts(host: HostConfig, imageVolumes: readonly string[]): PlannedMount[] {
  const out: PlannedMount[] = [];
  const seen = new Set<string>();
  const add = (m: PlannedMount) => {
    if (seen.has(m.destination)) throw invalidArgument(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
    out.push(m);
  };
  for (const b of host.Binds ?? []) add(parseBind(b));
  for (const m of host.Mounts ?? []) add(fromMountSpec(m));
  for (const [dest, options] of Object.entries(host.Tmpfs ?? {})) {
    const d = checkDestination(dest, dest, "tmpfs");
    add({
      type: "tmpfs",
      source: "tmpfs",
      destination: d,
      readOnly: false,
      mode: "",
      copyData: false,
      tmpfsOptions: options ? options.split(",") : [],
    });
  }
  for (const v of imageVolumes) {
    const d = posix.normalize(v).replace(/\/$/, "") || "/";
    if (seen.has(d) || d === "/") continue;
    seen.add(d);
    out.push({
      type: "volume",
      source: "",
      destination: d,
      readOnly: false,
      mode: "",
      copyData: true,
      anonymousFromImage: true,
    });
  }
  return out;
}
