import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeEventsQuery } from "./events.js";

test("events: since/until as Unix seconds[.nanos]; since after until refused; filters", () => {
  assert.deepEqual(
    decodeEventsQuery(
      new URLSearchParams('since=1796588469&until=1796592069.5&filters={"type":{"container":true}}'),
    ),
    { since: 1796588469, until: 1796592069.5, filters: { type: ["container"] } },
  );
  assert.deepEqual(decodeEventsQuery(new URLSearchParams("")), {});
  assert.throws(() => decodeEventsQuery(new URLSearchParams("since=10m")), /invalid value for since/);
  assert.throws(() => decodeEventsQuery(new URLSearchParams("since=20&until=10")), /cannot be after `until`/);
});
