/** `berth inspect`: any object by name or ID — containers first, then images, volumes and networks, as Docker looks. */
import { invalidArgument, isBerthError, notFound } from "../../base/errors.js";
import type { Engine } from "../../engine/engine.js";
import { atLeast, type Command, INSPECT_FORMAT_FLAG } from "../command.js";
import { inspectEach } from "./inspect-each.js";

type Kind = "container" | "image" | "volume" | "network";

const LOOKUPS: Record<Kind, (engine: Engine, name: string, size: boolean) => Promise<unknown>> = {
  container: (e, n, size) => e.containerInspect(n, { size }),
  image: (e, n) => e.imageInspect(n),
  volume: (e, n) => e.volumeInspect(n),
  network: (e, n) => e.networkInspect(n),
};

export const inspectCommand: Command = {
  path: "inspect",
  usage: "[OPTIONS] NAME|ID [NAME|ID...]",
  description: "Return low-level information on Docker objects",
  args: atLeast(1),
  flags: [
    INSPECT_FORMAT_FLAG,
    {
      name: "size",
      short: "s",
      type: "bool",
      description: "Display total file sizes if the type is container",
    },
    {
      name: "type",
      type: "string",
      valueName: "string",
      description: "Only inspect objects of the given type",
    },
  ],
  async run(ctx, flags, args) {
    const type = flags.string("type");
    if (type !== undefined && !["container", "image", "volume", "network"].includes(type)) {
      throw invalidArgument(`"${type}" is not a valid value for --type`);
    }
    const kinds: Kind[] = type === undefined ? ["container", "image", "volume", "network"] : [type as Kind];
    const engine = await ctx.engine();
    return inspectEach(ctx, args, {
      format: flags.string("format"),
      // Containers, then images, then volumes, then networks: the first kind that has the name.
      lookup: async (name) => {
        for (const kind of kinds) {
          try {
            return await LOOKUPS[kind](engine, name, flags.bool("size"));
          } catch (err) {
            if (!isBerthError(err, "NotFound")) throw err;
          }
        }
        throw notFound(type === undefined ? `No such object: ${name}` : `No such ${type}: ${name}`);
      },
    });
  },
};
