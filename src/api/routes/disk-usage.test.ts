import assert from "node:assert/strict";
import { test } from "node:test";
import type { DiskUsage } from "../../engine/types.js";
import { decodeDiskUsageTypes, diskUsageView } from "./disk-usage.js";

const du: DiskUsage = { LayersSize: 10, Images: [], Containers: [], Volumes: [], BuildCache: [] };

test("system df: every kind by default or before API 1.42; type= narrows, others null", () => {
  const all = decodeDiskUsageTypes(new URLSearchParams(""), "1.50");
  assert.deepEqual(diskUsageView(du, all), du);
  const old = decodeDiskUsageTypes(new URLSearchParams("type=volume"), "1.41");
  assert.equal(old.size, 4);
  const some = decodeDiskUsageTypes(new URLSearchParams("type=volume&type=build-cache"), "1.50");
  assert.deepEqual(diskUsageView(du, some), {
    LayersSize: 0,
    Images: null,
    Containers: null,
    Volumes: [],
    BuildCache: [],
  });
  assert.throws(
    () => decodeDiskUsageTypes(new URLSearchParams("type=bogus"), "1.50"),
    /unknown object type: bogus/,
  );
});
