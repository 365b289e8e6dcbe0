import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { decodeContainerUpdate } from "./container-update.js";

describe("decodeContainerUpdate", () => {
  test("Docker's UpdateConfig: Resources inline and RestartPolicy; null PidsLimit changes nothing", () => {
    assert.deepEqual(
      decodeContainerUpdate({
        Memory: 67108864,
        MemorySwap: 134217728,
        NanoCpus: 500000000,
        CpuShares: 512,
        PidsLimit: null,
        BlkioWeightDevice: [],
        RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      }),
      {
        CpuShares: 512,
        Memory: 67108864,
        NanoCpus: 500000000,
        MemorySwap: 134217728,
        RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      },
    );
  });

  test("a wrong type or an unsupported device list is a 400 naming the field", () => {
    const bad = (body: unknown, re: RegExp) =>
      assert.throws(
        () => decodeContainerUpdate(body),
        (e: unknown) => isBerthError(e, "InvalidArgument") && re.test(e.message),
      );
    bad({ Memory: "lots" }, /Memory/);
    bad({ Devices: [{ PathOnHost: "/dev/null" }] }, /Devices cannot be updated/);
    bad(undefined, /body is empty/);
  });
});
