/**
 * A process's environment as Docker's daemon makes it, for a container's process and an exec's
 * alike: moby's ReplaceOrAppendEnvValues (an entry replaces the one of the same name or is
 * appended; a bare `NAME` removes it) over CreateDaemonEnvironment's defaults, then HOME the way
 * runc adds it. The one place an `Env` list is merged over another; `envKey` is the one reading
 * of an entry's name. Pure: lists of strings in, a list out.
 */

/** Docker's default PATH for Linux containers (moby `oci.DefaultPathEnv`). */
export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The name of an `Env` entry: what comes before the first `=` (all of a bare `NAME`). */
export function envKey(entry: string): string {
  const i = entry.indexOf("=");
  return i < 0 ? entry : entry.slice(0, i);
}

/**
 * moby `ReplaceOrAppendEnvValues`: each override replaces the entry of the same name or is
 * appended; a bare `NAME` removes it.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: Array<string | undefined> = [...defaults];
  for (const value of overrides) {
    const key = envKey(value);
    const at = out.findIndex((e) => e !== undefined && envKey(e) === key);
    if (!value.includes("=")) {
      if (at >= 0) out[at] = undefined;
      continue;
    }
    if (at >= 0) out[at] = value;
    else out.push(value);
  }
  return out.filter((e): e is string => e !== undefined);
}

/**
 * moby `CreateDaemonEnvironment`: PATH (default), HOSTNAME, TERM=xterm with a terminal, then each
 * of `layers` (the container's Env; for an exec, the exec's Env after it) replacing or appending
 * by `replaceOrAppendEnv`. Then HOME from passwd when the result has none (runc adds it at the end
 * the same way).
 */
export function processEnv(o: {
  readonly hostname: string;
  readonly tty: boolean;
  readonly layers: ReadonlyArray<readonly string[]>;
  readonly home: string;
}): string[] {
  let env = [DEFAULT_PATH_ENV, `HOSTNAME=${o.hostname}`, ...(o.tty ? ["TERM=xterm"] : [])];
  for (const layer of o.layers) env = replaceOrAppendEnv(env, layer);
  if (!env.some((e) => envKey(e) === "HOME")) env.push(`HOME=${o.home}`);
  return env;
}
