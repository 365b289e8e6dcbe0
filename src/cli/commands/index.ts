/** Every CLI command, in one list. */
import type { Command } from "../command.js";
import { analyzeCommand } from "./analyze.js";
import { buildCommands } from "./build.js";
import { containerFileCommands } from "./container-files.js";
import { containerCommands } from "./containers.js";
import { eventsCommands } from "./events.js";
import { execCommand } from "./exec.js";
import { imageCommands } from "./images.js";
import { inspectCommand } from "./inspect.js";
import { kubeCommands } from "./kube.js";
import { networkCommands } from "./networks.js";
import { registryCommands } from "./registry.js";
import { serveCommand } from "./serve.js";
import { systemCommands } from "./system.js";
import { updateCommands } from "./update.js";
import { volumeCommands } from "./volumes.js";

export const commands: readonly Command[] = [
  ...imageCommands,
  analyzeCommand,
  ...containerCommands,
  ...containerFileCommands,
  execCommand,
  inspectCommand,
  ...systemCommands,
  ...updateCommands,
  ...eventsCommands,
  ...volumeCommands,
  ...networkCommands,
  ...registryCommands,
  ...buildCommands,
  serveCommand,
  ...kubeCommands,
];
