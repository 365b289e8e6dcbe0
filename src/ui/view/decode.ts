/**
 * The web view's reading of the API's answers: only the fields it shows, each checked, into its
 * own small types (the page trusts nothing it did not check, as every other boundary of berth).
 * Field names and shapes are the Docker Engine API's.
 */
import { type JsonObject, JsonReader, join } from "../../oci/json-reader.js";

export interface ImageRow {
  readonly Id: string;
  readonly RepoTags: readonly string[];
  readonly Size: number;
  readonly Created: number;
  readonly Containers: number;
}

export interface ImageDetails {
  readonly Id: string;
  /** The diffIDs of its layers, bottom first. */
  readonly Layers: readonly string[];
}

export interface HistoryRow {
  readonly CreatedBy: string;
  readonly Size: number;
}

export interface PortRow {
  readonly IP?: string;
  readonly PrivatePort: number;
  readonly PublicPort?: number;
  readonly Type: string;
}

export interface MountRow {
  readonly Type: "bind" | "volume" | "tmpfs";
  readonly Name?: string;
  readonly Destination: string;
}

export interface ContainerRow {
  readonly Id: string;
  readonly Names: readonly string[];
  readonly Image: string;
  readonly ImageID: string;
  readonly Command: string;
  readonly State: string;
  readonly Status: string;
  readonly Ports: readonly PortRow[];
  readonly SizeRw?: number;
  readonly Mounts: readonly MountRow[];
}

export interface ContainerDetails {
  readonly Id: string;
  readonly Name: string;
  readonly Tty: boolean;
  readonly Mounts: readonly MountRow[];
  readonly SizeRw?: number;
}

export interface ChangeRow {
  readonly Kind: number;
  readonly Path: string;
}

export interface VolumeRow {
  readonly Name: string;
  readonly Labels: Readonly<Record<string, string>>;
}

export interface EventRow {
  readonly Type: string;
  readonly Action: string;
  readonly id: string;
  /** The object's name (container name, image reference, volume name) when the event has one. */
  readonly name?: string;
}

export interface PruneReport {
  /** What was deleted: container IDs, image deletions, volume names, network names. */
  readonly deleted: readonly string[];
  readonly SpaceReclaimed: number;
}

function strings(r: JsonReader, o: JsonObject, key: string, where: string): string[] {
  return r.optStrings(o, key, where) ?? [];
}

function list(r: JsonReader, v: unknown): { item: JsonObject; where: string }[] {
  return r.array(v, "").map((item, i) => ({ item: r.object(item, `[${i}]`), where: `[${i}]` }));
}

export function decodeImages(v: unknown): ImageRow[] {
  const r = new JsonReader("image list");
  return list(r, v).map(({ item, where }) => ({
    Id: r.string(item.Id, join(where, "Id")),
    RepoTags: strings(r, item, "RepoTags", where).filter((t) => t !== "<none>:<none>"),
    Size: r.optInteger(item, "Size", where) ?? 0,
    Created: r.optInteger(item, "Created", where) ?? 0,
    Containers: r.optInteger(item, "Containers", where) ?? -1,
  }));
}

export function decodeImageDetails(v: unknown): ImageDetails {
  const r = new JsonReader("image inspect");
  const o = r.object(v, "");
  const rootfs = o.RootFS === undefined || o.RootFS === null ? {} : r.object(o.RootFS, "RootFS");
  return { Id: r.string(o.Id, "Id"), Layers: strings(r, rootfs, "Layers", "RootFS") };
}

export function decodeHistory(v: unknown): HistoryRow[] {
  const r = new JsonReader("image history");
  return list(r, v).map(({ item, where }) => ({
    CreatedBy: r.optString(item, "CreatedBy", where) ?? "",
    Size: r.optInteger(item, "Size", where) ?? 0,
  }));
}

function mountType(r: JsonReader, v: unknown, where: string): MountRow["Type"] {
  const t = r.string(v, where);
  if (t !== "bind" && t !== "volume" && t !== "tmpfs") r.fail(where, `unknown mount type ${t}`);
  return t;
}

function mounts(r: JsonReader, o: JsonObject, where: string): MountRow[] {
  const v = o.Mounts;
  if (v === undefined || v === null) return [];
  return r.array(v, join(where, "Mounts")).map((m, i) => {
    const w = `${join(where, "Mounts")}[${i}]`;
    const mo = r.object(m, w);
    const name = r.optString(mo, "Name", w);
    return {
      Type: mountType(r, mo.Type, join(w, "Type")),
      ...(name ? { Name: name } : {}),
      Destination: r.string(mo.Destination, join(w, "Destination")),
    };
  });
}

export function decodeContainers(v: unknown): ContainerRow[] {
  const r = new JsonReader("container list");
  return list(r, v).map(({ item, where }) => {
    const ports =
      item.Ports === null || item.Ports === undefined ? [] : r.array(item.Ports, join(where, "Ports"));
    const size = r.optInteger(item, "SizeRw", where);
    return {
      Id: r.string(item.Id, join(where, "Id")),
      Names: strings(r, item, "Names", where).map((n) => n.replace(/^\//, "")),
      Image: r.optString(item, "Image", where) ?? "",
      ImageID: r.optString(item, "ImageID", where) ?? "",
      Command: r.optString(item, "Command", where) ?? "",
      State: r.optString(item, "State", where) ?? "",
      Status: r.optString(item, "Status", where) ?? "",
      Ports: ports.map((p, i) => {
        const w = `${join(where, "Ports")}[${i}]`;
        const po = r.object(p, w);
        const ip = r.optString(po, "IP", w);
        const pub = r.optInteger(po, "PublicPort", w);
        return {
          ...(ip ? { IP: ip } : {}),
          PrivatePort: r.integer(po.PrivatePort, join(w, "PrivatePort")),
          ...(pub !== undefined ? { PublicPort: pub } : {}),
          Type: r.optString(po, "Type", w) ?? "tcp",
        };
      }),
      ...(size !== undefined ? { SizeRw: size } : {}),
      Mounts: mounts(r, item, where),
    };
  });
}

export function decodeContainerDetails(v: unknown): ContainerDetails {
  const r = new JsonReader("container inspect");
  const o = r.object(v, "");
  const config = o.Config === undefined || o.Config === null ? {} : r.object(o.Config, "Config");
  const size = r.optInteger(o, "SizeRw", "");
  return {
    Id: r.string(o.Id, "Id"),
    Name: r.optString(o, "Name", "") ?? "",
    Tty: r.optBoolean(config, "Tty", "Config") ?? false,
    Mounts: mounts(r, o, ""),
    ...(size !== undefined ? { SizeRw: size } : {}),
  };
}

export function decodeChanges(v: unknown): ChangeRow[] {
  if (v === null) return [];
  const r = new JsonReader("container changes");
  return list(r, v).map(({ item, where }) => ({
    Kind: r.integer(item.Kind, join(where, "Kind")),
    Path: r.string(item.Path, join(where, "Path")),
  }));
}

export function decodeVolume(v: unknown): VolumeRow {
  const r = new JsonReader("volume");
  const o = r.object(v, "");
  return { Name: r.string(o.Name, "Name"), Labels: r.optStringMap(o, "Labels", "") ?? {} };
}

export function decodeVolumes(v: unknown): VolumeRow[] {
  const r = new JsonReader("volume list");
  const o = r.object(v, "");
  const vols = o.Volumes === null || o.Volumes === undefined ? [] : r.array(o.Volumes, "Volumes");
  return vols.map((item) => decodeVolume(item));
}

export function decodeEvent(v: unknown): EventRow {
  const r = new JsonReader("event");
  const o = r.object(v, "");
  const actor = o.Actor === undefined || o.Actor === null ? {} : r.object(o.Actor, "Actor");
  const attrs = r.optStringMap(actor, "Attributes", "Actor") ?? {};
  const name = attrs.name;
  return {
    Type: r.optString(o, "Type", "") ?? "",
    Action: r.optString(o, "Action", "") ?? "",
    id: r.optString(actor, "ID", "Actor") ?? r.optString(o, "id", "") ?? "",
    ...(name ? { name } : {}),
  };
}

/** The answer of a prune: the list under `key` (strings, or image deletion items), and the bytes. */
export function decodePrune(v: unknown, key: string): PruneReport {
  const r = new JsonReader("prune report");
  const o = r.object(v, "");
  const raw = o[key] === null || o[key] === undefined ? [] : r.array(o[key], key);
  const deleted = raw.map((item, i) => {
    if (typeof item === "string") return item;
    const io = r.object(item, `${key}[${i}]`);
    return r.optString(io, "Deleted", `${key}[${i}]`) ?? r.optString(io, "Untagged", `${key}[${i}]`) ?? "";
  });
  return { deleted, SpaceReclaimed: r.optInteger(o, "SpaceReclaimed", "") ?? 0 };
}

/** The message of an API error answer ({"message": …}), or undefined. */
export function decodeErrorMessage(v: unknown): string | undefined {
  const r = new JsonReader("error");
  if (!r.isObject(v)) return undefined;
  const m = v.message;
  return typeof m === "string" ? m : undefined;
}
