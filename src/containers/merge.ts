/**
 * How a container's configuration comes from its image's config and the create request, by
 * Docker's rules (the daemon's merge of user and image Config).
 * Pure: it never reads the image or the store (the caller passes both configs).
 */
import type { ContainerConfig } from "../engine/types.js";
import type { ContainerConfig as ImageContainerConfig, JsonSet } from "../oci/image.js";
import { envKey } from "../runtime/spec/env.js";

/** The request's Config completed from the image's, as `docker create` does. */
export function mergeConfig(user: ContainerConfig, image: ImageContainerConfig): ContainerConfig {
  const out: ContainerConfig = structuredClone(user);
  if (!out.User) out.User = image.User ?? "";
  out.ExposedPorts = mergeSet(out.ExposedPorts, image.ExposedPorts);
  if (!out.Env || out.Env.length === 0) out.Env = image.Env ? [...image.Env] : [];
  else {
    const userKeys = new Set(out.Env.map(envKey));
    for (const e of image.Env ?? []) if (!userKeys.has(envKey(e))) out.Env.push(e);
  }
  const labels: Record<string, string> = { ...(out.Labels ?? {}) };
  for (const [k, v] of Object.entries(image.Labels ?? {})) if (!(k in labels)) labels[k] = v;
  out.Labels = labels;
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) {
      out.Cmd = image.Cmd ? [...image.Cmd] : null;
      if (image.ArgsEscaped) out.ArgsEscaped = true;
    }
    if (out.Entrypoint === undefined || out.Entrypoint === null)
      out.Entrypoint = image.Entrypoint ? [...image.Entrypoint] : null;
  }
  if (image.Healthcheck) {
    // Field by field, as Docker: what the request leaves empty (no test, zero durations and
    // retries) comes from the image; `--no-healthcheck` is a test of NONE, which overrides.
    const img = image.Healthcheck;
    const user = out.Healthcheck ?? {};
    const test = user.Test && user.Test.length > 0 ? user.Test : img.Test;
    out.Healthcheck = {
      ...(test ? { Test: [...test] } : {}),
      ...pick("Interval", user.Interval, img.Interval),
      ...pick("Timeout", user.Timeout, img.Timeout),
      ...pick("StartPeriod", user.StartPeriod, img.StartPeriod),
      ...pick("StartInterval", user.StartInterval, img.StartInterval),
      ...pick("Retries", user.Retries, img.Retries),
    };
  }
  if (!out.WorkingDir) out.WorkingDir = image.WorkingDir ?? "";
  out.Volumes = mergeSet(out.Volumes, image.Volumes);
  if (!out.StopSignal && image.StopSignal) out.StopSignal = image.StopSignal;
  if (image.Shell && !out.Shell) out.Shell = [...image.Shell];
  return out;
}

type SetField = Record<string, Record<string, never>>;

/** A set field (ExposedPorts, Volumes): the request's with the image's keys added; null when empty. */
function mergeSet(user: SetField | null | undefined, image: JsonSet | undefined): SetField | null {
  const imageKeys = Object.keys(image ?? {});
  if (!user || Object.keys(user).length === 0) return imageKeys.length > 0 ? { ...image } : null;
  for (const k of imageKeys) user[k] ??= {};
  return user;
}

/** The request's value of a Healthcheck field, or the image's when the request's is zero or absent. */
function pick<K extends string>(
  key: K,
  user: number | undefined,
  image: number | undefined,
): Partial<Record<K, number>> {
  const v = user || image;
  return v ? ({ [key]: v } as Partial<Record<K, number>>) : {};
}

/**
 * The process a container runs: Entrypoint then Cmd. `--entrypoint ""` (an entrypoint of one
 * empty string) means no entrypoint.
 */
export function processArgs(config: ContainerConfig): string[] {
  const entrypoint =
    (config.Entrypoint ?? []).length === 1 && config.Entrypoint?.[0] === "" ? [] : (config.Entrypoint ?? []);
  return [...entrypoint, ...(config.Cmd ?? [])];
}
