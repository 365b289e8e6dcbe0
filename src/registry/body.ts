/**
 * Letting go of a registry response's body that is not read (an error answer after its status,
 * a redirect, an upload's empty 202): the connection is freed, and a failure to cancel (the
 * peer already gone) is recorded at debug level, never raised over the answer that matters.
 */
import { bestEffort } from "../base/log.js";

export async function discardBody(res: { readonly body: ReadableStream<Uint8Array> | null }): Promise<void> {
  await bestEffort("discarding a registry response body", async () => res.body?.cancel());
}
