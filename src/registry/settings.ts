/**
 * Registry settings of this machine: which registries are insecure (plain HTTP). Docker reads
 * them from daemon.json's `insecure-registries`; berth reads the same key from
 * `/etc/berth/daemon.json` (or the file named by BERTH_DAEMON_CONFIG) and adds the
 * comma-separated entries of BERTH_INSECURE_REGISTRIES. Loopback registries need no entry.
 * It only reads the settings; it never writes daemon.json.
 */
import { readFileSync } from "node:fs";
import { errnoCode, invalidArgument } from "../base/errors.js";
import type { EndpointOptions } from "./endpoint.js";

export const DEFAULT_DAEMON_CONFIG = "/etc/berth/daemon.json";

/** Reads the settings; a missing daemon.json is no error, a malformed one is. */
export function loadRegistrySettings(env: Readonly<Record<string, string | undefined>>): EndpointOptions {
  const insecure: string[] = [];
  const path = env["BERTH_DAEMON_CONFIG"] || DEFAULT_DAEMON_CONFIG;
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw invalidArgument(`cannot read ${path}: ${String(err)}`, err);
  }
  if (text !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw invalidArgument(`${path} is not valid JSON`, err);
    }
    if (typeof doc === "object" && doc !== null && "insecure-registries" in doc) {
      const list = doc["insecure-registries"];
      if (!Array.isArray(list) || !list.every((e): e is string => typeof e === "string")) {
        throw invalidArgument(`${path}: insecure-registries must be a list of strings`);
      }
      insecure.push(...list);
    }
  }
  for (const e of (env["BERTH_INSECURE_REGISTRIES"] ?? "").split(",")) {
    if (e.trim() !== "") insecure.push(e.trim());
  }
  return { insecureRegistries: insecure };
}
