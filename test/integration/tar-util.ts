/** Reads a tar into memory (name → bytes) for tests that take archives apart. */
import { Readable } from "node:stream";
import { extract } from "tar-stream";

export async function listTarEntries(tar: Buffer): Promise<Map<string, Buffer>> {
  const ex = extract();
  Readable.from([tar]).pipe(ex);
  const out = new Map<string, Buffer>();
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.type === "file") out.set(entry.header.name, Buffer.concat(chunks));
  }
  return out;
}
