/**
 * GET /events: the engine's event journal as dockerd streams it — past events from `since`,
 * then live ones, until `until` or the client goes away; one JSON object per line, the status
 * line sent at once (clients wait on it before they show anything).
 * Like every route it decodes the request and encodes the answer; the journal is the engine's,
 * and it never reads the database itself.
 */
import { invalidArgument } from "../../base/errors.js";
import { parseUnixTimestamp } from "../../base/timestamps.js";
import type { EventsOptions } from "../../engine/types.js";
import { queryFilters } from "../decode.js";
import type { Router } from "../router.js";
import { JsonLinesWriter } from "../streams.js";
import { errorLine } from "./progress.js";

/**
 * `since`/`until` as dockerd reads them: Unix seconds, optionally with a fraction (`SECONDS.NANOS`);
 * absent or empty is undefined. (The docker CLI turns durations and dates into this form.)
 */
export function decodeEventTime(value: string | null, name: string): number | undefined {
  if (value === null || value === "") return undefined;
  const t = parseUnixTimestamp(value);
  if (t === undefined) {
    throw invalidArgument(
      `invalid value for ${name}: ${JSON.stringify(value)}: want Unix seconds[.nanoseconds]`,
    );
  }
  return t;
}

export function decodeEventsQuery(q: URLSearchParams): Omit<EventsOptions, "signal"> {
  const since = decodeEventTime(q.get("since"), "since");
  const until = decodeEventTime(q.get("until"), "until");
  if (since !== undefined && until !== undefined && until < since) {
    throw invalidArgument(
      `\`since\` time (${q.get("since")}) cannot be after \`until\` time (${q.get("until")})`,
    );
  }
  const filters = queryFilters(q);
  return {
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(filters ? { filters } : {}),
  };
}

export function eventRoutes(router: Router): void {
  router.get("/events", async (ctx) => {
    const opts = decodeEventsQuery(ctx.query);
    // The engine checks the filters at the call: a bad one is a 400, not a stream.
    const events = ctx.engine.events({ ...opts, signal: ctx.signal });
    ctx.res.writeHead(200, { "Content-Type": "application/json" });
    ctx.res.flushHeaders();
    const out = new JsonLinesWriter(ctx.res);
    try {
      for await (const e of events) await out.write(e);
    } catch (err) {
      await out.write(errorLine(err));
    }
    ctx.res.end();
  });
}
