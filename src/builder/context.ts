/**
 * The build context: a directory every COPY/ADD source is resolved inside, the Dockerfile's
 * text and the .dockerignore matcher. A directory context is used where it is; a tar context
 * (file or stdin, plain or gzip) is extracted through diff/applyLayer's contained extraction into
 * a private directory under `<root>/tmp`, removed by `close()`; a Dockerfile alone (`-`) gets an
 * empty directory. The Dockerfile and .dockerignore themselves are always readable by the
 * builder; .dockerignore only decides what COPY/ADD may take.
 * It never lets a COPY/ADD source resolve outside the context directory, and never removes a
 * directory context it did not make (only the extracted tar's private copy).
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, stat } from "node:fs/promises";
import { join, posix, resolve } from "node:path";
import { Readable } from "node:stream";
import { errnoCode, invalidArgument, notFound } from "../base/errors.js";
import { applyLayer } from "../diff/apply.js";
import type { BuildContextSource } from "../engine/types.js";
import { readFileInRoot } from "../sys/root-path.js";
import { compileIgnore, type IgnoreMatcher, parseDockerignore } from "./dockerfile/dockerignore.js";

export interface BuildContext {
  /** The directory sources are resolved in. */
  readonly dir: string;
  /** The Dockerfile's name as errors show it. */
  readonly dockerfileName: string;
  readonly dockerfileText: string;
  readonly ignore: IgnoreMatcher;
  /** Whether .dockerignore had patterns (for progress). */
  readonly ignoreBytes: number;
  close(): Promise<void>;
}

export interface OpenContextOptions {
  /** Where temporary context directories go (`<root>/tmp`). */
  readonly tmpDir: string;
  /** The Dockerfile's path inside the context (default `Dockerfile`). */
  readonly dockerfile?: string | undefined;
  /** The Dockerfile's text when it does not come from the context. */
  readonly dockerfileText?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export async function openContext(
  source: BuildContextSource,
  opts: OpenContextOptions,
): Promise<BuildContext> {
  let dir: string;
  let temp: string | undefined;
  if (source.kind === "directory") {
    dir = resolve(source.path);
    const st = await stat(dir).catch((err: unknown) => {
      if (errnoCode(err) === "ENOENT")
        throw notFound(`unable to prepare context: path "${source.path}" not found`);
      throw err;
    });
    if (!st.isDirectory())
      throw invalidArgument(`unable to prepare context: context must be a directory: ${source.path}`);
  } else {
    await mkdir(opts.tmpDir, { recursive: true, mode: 0o700 });
    temp = join(opts.tmpDir, `build-context-${process.pid}-${randomBytes(6).toString("hex")}`);
    await mkdir(temp, { mode: 0o700 });
    dir = temp;
    if (source.kind === "tar") {
      const stream =
        source.stream instanceof Readable
          ? source.stream
          : Readable.from(source.stream, { objectMode: false });
      try {
        await applyLayer(stream, temp, opts.signal ? { signal: opts.signal } : {});
      } catch (err) {
        await rm(temp, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const close = async (): Promise<void> => {
    if (temp) await rm(temp, { recursive: true, force: true });
  };
  try {
    const name = opts.dockerfile ?? "Dockerfile";
    let text = opts.dockerfileText ?? (source.kind === "dockerfile" ? source.text : undefined);
    if (text === undefined) {
      const rel = posix.normalize(`/${name.replaceAll("\\", "/")}`);
      text = await readFileInRoot(dir, rel, 16 << 20);
      if (text === undefined) {
        throw notFound(`failed to read dockerfile: open ${name}: no such file or directory`);
      }
    }
    const ignoreText = (await readFileInRoot(dir, "/.dockerignore")) ?? "";
    return {
      dir,
      dockerfileName: name,
      dockerfileText: text,
      ignore: compileIgnore(parseDockerignore(ignoreText)),
      ignoreBytes: Buffer.byteLength(ignoreText),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
