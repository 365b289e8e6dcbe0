/**
 * `import --change` and `commit --change`: Dockerfile instructions applied to an image config, as
 * moby's BuildFromConfig does it — the lines parsed as one Dockerfile by the builder's parser,
 * each typed and checked by its instruction's parse, then applied by the builder's own
 * dispatchers (`builder/instructions/dispatch.ts`) with the config's environment for expansion.
 * There is no second model of what an instruction does to a config.
 *
 * Owns only the commit list (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,
 * STOPSIGNAL, USER, VOLUME, WORKDIR, as moby's validCommitCommands) and Docker's refusal of the
 * rest (`RUN is not a valid change command`). Errors carry no Dockerfile location: Docker reports
 * a change's problem by its message alone.
 */
import { invalidArgument } from "../base/errors.js";
import { DockerfileError, parseDockerfile } from "../builder/dockerfile/parse.js";
import { type DraftConfig, dispatch, type StageState } from "../builder/instructions/dispatch.js";
import type { ContainerConfig } from "../oci/image.js";

const COMMIT_COMMANDS: ReadonlySet<string> = new Set([
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "HEALTHCHECK",
  "LABEL",
  "ONBUILD",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/** The name errors would use (never shown: change errors are reported without a location). */
const FILE = "--change";

/** Applies `changes` to a copy of `config` and returns it; `config` is not modified. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  // The config is ours once cloned, so the dispatchers may change it in place.
  const draft = structuredClone(config) as DraftConfig;
  const lines = changes.filter((c) => c.trim() !== "");
  if (lines.length === 0) return draft;
  const state: StageState = { config: draft, author: undefined, args: [], cmdSet: false };
  try {
    const df = parseDockerfile(lines.join("\n"), {
      file: FILE,
      changes: { allowed: COMMIT_COMMANDS, refuse: (word) => `${word} is not a valid change command` },
    });
    const ctx = { file: FILE, escape: df.escape, buildArgs: new Map(), metaArgs: new Map() };
    for (const instr of df.instructions) dispatch(state, instr, ctx);
  } catch (err) {
    if (err instanceof DockerfileError) throw invalidArgument(err.detail, err);
    throw err;
  }
  // CMD and ENTRYPOINT mark a build's config ArgsEscaped (BuildKit); a commit leaves it as it was,
  // as moby's classic dispatchers do on Linux.
  if (config.ArgsEscaped === undefined) delete state.config.ArgsEscaped;
  else state.config.ArgsEscaped = config.ArgsEscaped;
  return state.config;
}
