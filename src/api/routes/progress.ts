/**
 * Docker's JSON-message streams (pull, push, import, load, build): one JSON object per line.
 * A failure before the first message is an ordinary error response (status and `{"message"}`),
 * as dockerd answers when nothing was flushed yet; a failure after it is the last line,
 * `{"errorDetail": {"message": …}, "error": …}`, which the docker CLI prints and exits 1 on.
 */
import type { ServerResponse } from "node:http";
import { errorMessage } from "../../base/errors.js";
import { JsonLinesWriter } from "../streams.js";

/** The closing line of a stream that failed after it started. */
export function errorLine(err: unknown): { errorDetail: { message: string }; error: string } {
  const message = errorMessage(err);
  return { errorDetail: { message }, error: message };
}

/**
 * Streams `messages` as JSON lines. The status line is written with the first message (or at the
 * end, for an empty stream), so an operation that fails at once answers with its own status.
 */
export async function sendJsonMessages(res: ServerResponse, messages: AsyncIterable<unknown>): Promise<void> {
  const it = messages[Symbol.asyncIterator]();
  // The first message decides between an error response and a 200 stream.
  const first = await it.next();
  res.writeHead(200, { "Content-Type": "application/json" });
  const out = new JsonLinesWriter(res);
  if (!first.done) {
    await out.write(first.value);
    try {
      for (let next = await it.next(); !next.done; next = await it.next()) await out.write(next.value);
    } catch (err) {
      await out.write(errorLine(err));
    }
  }
  res.end();
}
