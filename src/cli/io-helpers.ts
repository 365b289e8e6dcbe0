/** Byte sources and sinks for commands: files, stdin/stdout, directories as tar streams. */
import { createReadStream } from "node:fs";
import { lstat, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import { errnoCode, invalidArgument, notFound } from "../base/errors.js";

import type { ByteSource } from "../engine/types.js";
import { readTar } from "../oci/tar-reader.js";
import { fsyncFile, lstatIfExists, tempSibling } from "../sys/fs.js";

/** Opens a file for reading, failing before any byte with Docker's wording. */
export async function openInput(path: string, cwd: string): Promise<Readable> {
  const full = resolve(cwd, path);
  try {
    const st = await lstat(full);
    if (st.isDirectory()) return packDirectory(full);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") throw notFound(`open ${path}: no such file or directory`);
    throw invalidArgument(`open ${path}: ${(err as Error).message}`, err);
  }
  const fh = await open(full, "r");
  return fh.createReadStream();
}

/** A directory (an OCI image layout) as a tar stream of its regular files and directories. */
export function packDirectory(dir: string): Readable {
  const tar = pack();
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      const st = await lstat(p);
      if (st.isDirectory()) {
        tar.entry({ name: rel, type: "directory", mode: 0o755 });
        await walk(p);
      } else if (st.isFile()) {
        const entry = tar.entry({ name: rel, size: st.size, mode: 0o644 });
        await pipeline(createReadStream(p), entry);
      }
    }
  };
  walk(dir).then(
    () => tar.finalize(),
    (err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return tar as unknown as Readable;
}

/** Writes a byte source to `path` through a temporary file, so a failure leaves nothing. */
/**
 * Docker's check of an `-o` path before any work: its directory must exist, and an existing path
 * must be a regular file or a directory. `what` prefixes the message ("failed to save image").
 */
export async function validateOutputPath(path: string, what: string): Promise<void> {
  const dir = dirname(path);
  const dirStat = await lstat(dir).catch((err: unknown) => {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  });
  if (!dirStat)
    throw invalidArgument(`${what}: invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  const st = await lstatIfExists(path);
  if (st && !st.isFile() && !st.isDirectory() && !st.isSymbolicLink())
    throw invalidArgument(
      `${what}: invalid output path: ${JSON.stringify(path)} must be a directory or a regular file`,
    );
}

export async function writeOutputFile(path: string, source: ByteSource): Promise<void> {
  const tmp = tempSibling(path);
  const fh = await open(tmp, "wx", 0o644);
  try {
    // The stream closes the handle when it ends or fails.
    await pipeline(source, fh.createWriteStream());
    // On the disk before the rename (fsync through any descriptor of the file flushes it).
    await fsyncFile(tmp);
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, path);
}

/** Unpacks a tar stream we produced ourselves (an OCI layout) into a new directory. */
export async function writeOutputDirectory(path: string, source: ByteSource): Promise<void> {
  const tmp = tempSibling(path);
  await mkdir(tmp, { recursive: true });
  try {
    for await (const entry of readTar(source)) {
      const name = entry.header.name.replace(/^\.?\/+/, "");
      if (name.split("/").includes("..")) throw invalidArgument(`refusing archive entry ${name}`);
      const target = join(tmp, name);
      if (entry.header.type === "directory") {
        await mkdir(target, { recursive: true });
      } else {
        await mkdir(dirname(target), { recursive: true });
        const fh = await open(target, "wx", 0o644);
        await pipeline(entry, fh.createWriteStream());
      }
    }
    await rename(tmp, path).catch(async (err: unknown) => {
      if (errnoCode(err) === "ENOTEMPTY" || errnoCode(err) === "EEXIST") {
        throw invalidArgument(`${path} already exists and is not empty`);
      }
      throw err;
    });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Reads one line of an answer from stdin (for [y/N] prompts); empty when there is none. */
export async function readAnswer(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolvePromise) => {
    let buf = "";
    const done = () => {
      stdin.removeListener("data", onData);
      stdin.removeListener("end", done);
      stdin.removeListener("error", done);
      stdin.pause?.();
      resolvePromise(buf.split("\n")[0]?.trim() ?? "");
    };
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      if (buf.includes("\n")) done();
    };
    stdin.on("data", onData);
    stdin.on("end", done);
    stdin.on("error", done);
    stdin.resume?.();
  });
}
