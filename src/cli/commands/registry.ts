/**
 * Registry commands: pull, push, login, logout. Credentials come from Docker's config.json
 * (docker-config.ts) and go to the engine as Docker's CLI sends X-Registry-Auth; progress is
 * shown as Docker's jsonmessage display does: one line per layer rewritten in place on a
 * terminal, and on anything else only the lines without a progress bar.
 */
import { BerthError, invalidArgument } from "../../base/errors.js";
import type { AuthConfig, ProgressEvent } from "../../engine/types.js";
import {
  familiarString,
  parseNormalizedNamed,
  type Reference,
  referenceString,
  repositoryName,
  trimReference,
  withDefaultTag,
} from "../../oci/reference.js";
import { atMost, type Command, type CommandContext, exactly } from "../command.js";
import type { Flags } from "../flags.js";
import { readAnswer } from "../io-helpers.js";
import {
  authKey,
  convertToHostname,
  credentialsFor,
  DOCKER_HUB_AUTH_KEY,
  readDockerConfig,
  writeDockerConfig,
} from "./docker-config.js";

type Out = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Docker's DisplayJSONMessagesStream: events with an id and progress details own a line each
 * on a terminal (the cursor moves up to rewrite it); any other event starts a new block.
 * Without a terminal, events with a progress bar are dropped and the rest printed as lines.
 */
export class ProgressDisplay {
  private ids = new Map<string, number>();

  constructor(
    private readonly out: Out,
    private readonly terminal: boolean,
  ) {}

  show(e: ProgressEvent): void {
    if (e.error !== undefined) throw new BerthError("Internal", e.errorDetail?.message ?? e.error);
    if (e.status === undefined) return;
    const hasProgress = e.progressDetail !== undefined || e.progress !== undefined;
    const bar = e.progress ?? "";
    let diff = 0;
    if (e.id !== undefined && hasProgress) {
      let line = this.ids.get(e.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(e.id, line);
        if (this.terminal) this.out.write("\n");
      }
      diff = this.ids.size - line;
      if (this.terminal) this.out.write(`\x1b[${diff}A`);
    } else {
      this.ids = new Map();
    }
    if (!this.terminal && bar !== "") return;
    let text = "";
    if (this.terminal && hasProgress) text += "\x1b[2K\r";
    if (e.id !== undefined) text += `${e.id}: `;
    if (this.terminal && hasProgress) text += `${e.status} ${bar}\r`;
    else text += `${e.status}\n`;
    this.out.write(text);
    if (e.id !== undefined && this.terminal && diff > 0) this.out.write(`\x1b[${diff}B`);
  }
}

/** Shows a progress stream (or swallows it with `quiet`); an error event fails the command. */
async function display(
  ctx: CommandContext,
  events: AsyncIterable<ProgressEvent>,
  quiet: boolean,
  out: Out = ctx.io.stdout,
) {
  const shower = new ProgressDisplay(out, out.isTTY === true);
  let failure: BerthError | undefined;
  for await (const e of events) {
    if (e.error !== undefined) {
      failure ??= new BerthError("Internal", e.errorDetail?.message ?? e.error);
      continue;
    }
    if (!quiet) shower.show(e);
  }
  if (failure) throw failure;
}

/** Stored credentials for the registry of `ref`, if any. */
async function authFor(ctx: CommandContext, ref: Reference): Promise<AuthConfig | undefined> {
  const cfg = await readDockerConfig(ctx.io.env);
  return credentialsFor(cfg, ref.domain);
}

/**
 * What `run`/`create` do for an image that is not here: say so, pull it (progress on stderr, as
 * Docker's CLI does), and go on.
 */
export async function pullMissingImage(
  ctx: CommandContext,
  image: string,
  opts: { platform?: string; quiet?: boolean } = {},
  how: { announce?: boolean } = {},
): Promise<void> {
  const ref = withDefaultTag(parseNormalizedNamed(image));
  if (how.announce ?? true) ctx.io.stderr.write(`Unable to find image '${familiarString(ref)}' locally\n`);
  const auth = await authFor(ctx, ref);
  const engine = await ctx.engine();
  const events = engine.imagePull(image, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(auth ? { auth } : {}),
  });
  await display(ctx, events, opts.quiet ?? false, ctx.io.stderr as Out);
}

/**
 * What pull and push act on: with `-a` the repository (a tag is refused, and for pull a digest),
 * else the name with its default tag; `shown` is how their last line names it, `auth` the
 * credentials config.json holds for its registry.
 */
async function transferTarget(
  ctx: CommandContext,
  name: string,
  flags: Flags,
  opts: { readonly digestRefused: boolean },
): Promise<{ allTags: boolean; shown: string; auth: AuthConfig | undefined }> {
  const allTags = flags.bool("all-tags");
  const parsed = parseNormalizedNamed(name);
  if (allTags && (parsed.tag !== undefined || (opts.digestRefused && parsed.digest !== undefined)))
    throw invalidArgument("tag can't be used with --all-tags/-a");
  const ref = allTags ? trimReference(parsed) : withDefaultTag(parsed);
  const shown = allTags ? repositoryName(ref) : referenceString(ref);
  return { allTags, shown, auth: await authFor(ctx, ref) };
}

const pullCommand: Command = {
  path: "image pull",
  aliases: ["pull"],
  usage: "[OPTIONS] NAME[:TAG|@DIGEST]",
  description: "Download an image from a registry",
  args: exactly(1),
  flags: [
    {
      name: "all-tags",
      short: "a",
      type: "bool",
      description: "Download all tagged images in the repository",
    },
    {
      name: "platform",
      type: "string",
      valueName: "string",
      description: "Set platform if server is multi-platform capable",
    },
    { name: "quiet", short: "q", type: "bool", description: "Suppress verbose output" },
  ],
  async run(ctx, flags, args) {
    const name = args[0] as string;
    const { allTags, shown, auth } = await transferTarget(ctx, name, flags, { digestRefused: true });
    const platform = flags.string("platform");
    const engine = await ctx.engine();
    const events = engine.imagePull(name, {
      allTags,
      ...(platform ? { platform } : {}),
      ...(auth ? { auth } : {}),
    });
    await display(ctx, events, flags.bool("quiet"));
    ctx.io.stdout.write(`${shown}\n`);
    return 0;
  },
};

const pushCommand: Command = {
  path: "image push",
  aliases: ["push"],
  usage: "[OPTIONS] NAME[:TAG]",
  description: "Upload an image to a registry",
  args: exactly(1),
  flags: [
    {
      name: "all-tags",
      short: "a",
      type: "bool",
      description: "Push all tags of an image to the repository",
    },
    { name: "quiet", short: "q", type: "bool", description: "Suppress verbose output" },
  ],
  async run(ctx, flags, args) {
    const name = args[0] as string;
    const { allTags, shown, auth } = await transferTarget(ctx, name, flags, { digestRefused: false });
    const engine = await ctx.engine();
    const events = engine.imagePush(name, { allTags, ...(auth ? { auth } : {}) });
    const quiet = flags.bool("quiet");
    await display(ctx, events, quiet);
    if (quiet) ctx.io.stdout.write(`${shown}\n`);
    return 0;
  },
};

/** The registry a login/logout address names, and its config.json key. */
function serverOf(address: string | undefined): { domain: string; key: string } {
  if (address === undefined || address === "" || convertToHostname(address) === "index.docker.io") {
    return { domain: "docker.io", key: DOCKER_HUB_AUTH_KEY };
  }
  const host = convertToHostname(address);
  if (host === "docker.io" || host === "registry-1.docker.io")
    return { domain: "docker.io", key: DOCKER_HUB_AUTH_KEY };
  return { domain: host, key: authKey(host) };
}

async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString("utf8");
}

const loginCommand: Command = {
  path: "login",
  usage: "[OPTIONS] [SERVER]",
  description: "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
  args: atMost(1),
  flags: [
    {
      name: "password",
      short: "p",
      type: "string",
      valueName: "string",
      description: "Password or Personal Access Token (PAT)",
    },
    {
      name: "password-stdin",
      type: "bool",
      description: "Take the Password or Personal Access Token (PAT) from stdin",
    },
    { name: "username", short: "u", type: "string", valueName: "string", description: "Username" },
  ],
  async run(ctx, flags, args) {
    const { domain, key } = serverOf(args[0]);
    let username = flags.string("username")?.trim();
    let password = flags.string("password");
    const passwordStdin = flags.bool("password-stdin");
    if (password !== undefined) {
      ctx.io.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
      if (passwordStdin)
        throw invalidArgument("conflicting options: cannot specify both --password and --password-stdin");
    }
    if (passwordStdin) {
      if (!username) throw invalidArgument("Must provide --username with --password-stdin");
      password = (await readAll(ctx.io.stdin)).replace(/\r?\n$/, "");
    }
    const cfg = await readDockerConfig(ctx.io.env);
    const stored = credentialsFor(cfg, domain);
    const engine = await ctx.engine();
    if (!username && password === undefined && stored?.username && stored.password !== undefined) {
      // Docker first tries the credentials it already has.
      try {
        await engine.registryLogin({ ...stored, serveraddress: key });
        ctx.io.stdout.write("Login Succeeded\n");
        return 0;
      } catch {
        // fall through to asking
      }
    }
    if (!username || password === undefined) {
      if (!ctx.io.stdin.isTTY)
        throw invalidArgument("Cannot perform an interactive login from a non TTY device");
      if (!username) {
        ctx.io.stdout.write(`Username${stored?.username ? ` (${stored.username})` : ""}: `);
        username = (await readAnswer(ctx.io.stdin)) || stored?.username;
        if (!username) throw invalidArgument("Error: Non-null Username Required");
      }
      if (password === undefined) {
        ctx.io.stdout.write("Password: ");
        password = await readAnswer(ctx.io.stdin);
        ctx.io.stdout.write("\n");
      }
    }
    if (password === "") throw invalidArgument("Error: Password Required");
    const auth: AuthConfig = { username, password, serveraddress: key };
    const res = await engine.registryLogin(auth);
    const entry = res.IdentityToken
      ? { auth: Buffer.from(`${username}:`).toString("base64"), identitytoken: res.IdentityToken }
      : { auth: Buffer.from(`${username}:${password}`).toString("base64") };
    const auths = { ...rawAuths(cfg), [key]: entry };
    await writeDockerConfig(cfg, auths);
    ctx.io.stderr.write(
      `\nWARNING! Your credentials are stored unencrypted in '${cfg.path}'.\n` +
        "Configure a credential helper to remove this warning. See\n" +
        "https://docs.docker.com/go/credential-store/\n\n",
    );
    ctx.io.stdout.write(`${res.Status || "Login Succeeded"}\n`);
    return 0;
  },
};

/** The `auths` member as stored, so entries berth does not understand are kept. */
function rawAuths(cfg: { readonly doc: Record<string, unknown> }): Record<string, unknown> {
  const raw = cfg.doc["auths"];
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? { ...raw } : {};
}

const logoutCommand: Command = {
  path: "logout",
  usage: "[SERVER]",
  description: "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.",
  args: atMost(1),
  flags: [],
  async run(ctx, _flags, args) {
    const { key } = serverOf(args[0]);
    const cfg = await readDockerConfig(ctx.io.env);
    const auths = rawAuths(cfg);
    // Docker removes the entry under the key and under the address as typed.
    const typed = args[0];
    ctx.io.stdout.write(`Removing login credentials for ${key}\n`);
    let changed = false;
    for (const k of new Set([key, ...(typed ? [typed] : [])])) {
      if (Object.hasOwn(auths, k)) {
        delete auths[k];
        changed = true;
      }
    }
    if (changed) await writeDockerConfig(cfg, auths);
    return 0;
  },
};

export const registryCommands: readonly Command[] = [pullCommand, pushCommand, loginCommand, logoutCommand];
