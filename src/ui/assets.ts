/**
 * The web view's documents, served by `berth serve --ui` beside the API on one loopback
 * listener: the page (index.html), its script (the bundle scripts/bundle.sh builds from
 * src/ui/page/) and its style sheet, read once at start-up from the directory bin/ names.
 * Everything the page needs is here: its Content-Security-Policy lets it load nothing from
 * anywhere else, connect only to its own origin, and be framed by no one.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { errnoCode, notFound } from "../base/errors.js";

/** The files of the page, by URL path. */
const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/ui/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/ui/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

export const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export interface UiPage {
  handles(path: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse, path: string): void;
}

/** Reads the page's files from `dir`; a missing file is NotFound naming it (a build without the page). */
export async function loadUiPage(dir: string): Promise<UiPage> {
  const bodies = new Map<string, { body: Buffer; type: string }>();
  for (const [path, f] of Object.entries(FILES)) {
    const body = await readFile(join(dir, f.file)).catch((err: unknown) => {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    });
    if (!body) throw notFound(`the web view's ${f.file} is not in ${dir} (run scripts/bundle.sh)`);
    bodies.set(path, { body, type: f.type });
  }
  return {
    handles: (path) => bodies.has(path),
    serve(req, res, path) {
      const doc = bodies.get(path);
      if (!doc) {
        res.writeHead(404).end();
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD" }).end();
        return;
      }
      res.writeHead(200, {
        "Content-Type": doc.type,
        "Content-Length": doc.body.length,
        "Content-Security-Policy": PAGE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : doc.body);
    },
  };
}
