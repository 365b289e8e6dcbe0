/**
 * The build context as POST /build takes it: a tar of the context directory (files, directories
 * and symlinks with their modes and times), as the docker CLI sends it. A Dockerfile that is not
 * in the context (`-f -`, `-f ../Dockerfile`) goes in as `.dockerfile.<random>`, named by the
 * `dockerfile` parameter and kept out of COPY by an added .dockerignore line, as the docker CLI
 * does; the builder applies .dockerignore itself.
 * It never filters the context by .dockerignore (it only adds the lines for the Dockerfile it
 * places): the server's builder decides what COPY may take.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pack } from "tar-stream";
import { errnoCode, notFound, notImplemented } from "../base/errors.js";
import type { BuildContextSource } from "../engine/types.js";

export interface ContextUpload {
  readonly body: AsyncIterable<Uint8Array>;
  /** The `dockerfile` parameter to send, when the Dockerfile was added to the tar. */
  readonly dockerfile?: string;
}

type Pack = ReturnType<typeof pack>;

function addEntry(p: Pack, header: Parameters<Pack["entry"]>[0], content?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    p.entry(header, content ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

function addFile(p: Pack, header: Parameters<Pack["entry"]>[0], path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = p.entry(header, (err) => (err ? reject(err) : resolve()));
    const src = createReadStream(path);
    src.on("error", (err) => {
      entry.destroy(err);
      reject(err);
    });
    src.pipe(entry);
  });
}

async function walk(p: Pack, root: string, rel: string, skip: ReadonlySet<string>): Promise<void> {
  const names = (await readdir(join(root, rel))).sort();
  for (const name of names) {
    const r = rel === "" ? name : `${rel}/${name}`;
    if (skip.has(r)) continue;
    const abs = join(root, r);
    const st = await lstat(abs);
    const base = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      await addEntry(p, { ...base, type: "directory" });
      await walk(p, root, r, skip);
    } else if (st.isSymbolicLink()) {
      await addEntry(p, { ...base, type: "symlink", linkname: await readlink(abs) });
    } else if (st.isFile()) {
      await addFile(p, { ...base, type: "file", size: st.size }, abs);
    }
    // Sockets, FIFOs and devices are not build context (the docker CLI skips them too).
  }
}

/** The tar body (and `dockerfile` parameter) for a build context. */
export async function contextUpload(
  source: BuildContextSource,
  dockerfileText: string | undefined,
): Promise<ContextUpload> {
  if (source.kind === "tar") {
    if (dockerfileText !== undefined) {
      throw notImplemented(
        "a Dockerfile from outside a tar context is not supported against a remote engine: put it in the archive",
      );
    }
    return { body: source.stream };
  }
  const p = pack();
  const now = new Date();
  let dockerfile: string | undefined;
  const text = source.kind === "dockerfile" ? source.text : dockerfileText;
  if (source.kind === "directory") {
    const st = await lstat(source.path).catch((err: unknown) => {
      if (errnoCode(err) === "ENOENT")
        throw notFound(`unable to prepare context: path "${source.path}" not found`);
      throw err;
    });
    if (!st.isDirectory())
      throw notFound(`unable to prepare context: context must be a directory: ${source.path}`);
  }
  if (text !== undefined && source.kind === "directory")
    dockerfile = `.dockerfile.${randomBytes(10).toString("hex")}`;
  const fill = async () => {
    if (source.kind === "directory") {
      const skip = new Set<string>();
      if (dockerfile) {
        // The added Dockerfile and .dockerignore stay out of COPY, as the docker CLI arranges.
        const ignore = await readFile(join(source.path, ".dockerignore"), "utf8").catch((err: unknown) => {
          if (errnoCode(err) === "ENOENT") return "";
          throw err;
        });
        skip.add(".dockerignore");
        await addEntry(
          p,
          { name: ".dockerignore", mode: 0o644, mtime: now, type: "file" },
          Buffer.from(`${ignore}\n${dockerfile}\n.dockerignore\n`),
        );
        await addEntry(
          p,
          { name: dockerfile, mode: 0o644, mtime: now, type: "file" },
          Buffer.from(text ?? ""),
        );
      }
      await walk(p, source.path, "", skip);
    } else {
      await addEntry(
        p,
        { name: "Dockerfile", mode: 0o644, mtime: now, type: "file" },
        Buffer.from(text ?? ""),
      );
    }
    p.finalize();
  };
  fill().catch((err: unknown) => p.destroy(err instanceof Error ? err : new Error(String(err))));
  return { body: bytesOf(p), ...(dockerfile ? { dockerfile } : {}) };
}

async function* bytesOf(p: Pack): AsyncIterable<Uint8Array> {
  for await (const chunk of p) if (chunk instanceof Uint8Array) yield chunk;
}
