/**
 * `toCommand`: an instruction typed and checked before anything runs — BuildKit flags berth does
 * not implement are refused with one line naming the flag, at the instruction's line.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertInvalid } from "../../base/test-support.js";
import { syntaxNode } from "../dockerfile/test-support.js";
import { toCommand } from "./plan.js";

describe("toCommand: BuildKit flags berth does not implement are refused, naming the flag and line", () => {
  const refused = (line: string, message: string | RegExp) =>
    assertInvalid(() => toCommand("Dockerfile", "\\", { ...syntaxNode(line), startLine: 3 }), message);

  test("RUN --device and ADD --unpack: one line, 'not supported'", () => {
    refused("RUN --device=/dev/fuse true", "Dockerfile:3: RUN --device is not supported");
    refused("ADD --unpack=true http://127.0.0.1/a.tgz /x", "Dockerfile:3: ADD --unpack is not supported");
    refused("ADD --unpack=false a.tgz /x", "Dockerfile:3: ADD --unpack is not supported");
    refused(
      "ADD --keep-git-dir=true https://127.0.0.1/r.git /x",
      "Dockerfile:3: ADD --keep-git-dir is not supported: berth does not fetch git repositories",
    );
  });

  test("RUN --network beyond default, none and host; --security other than sandbox", () => {
    refused("RUN --network=bridge true", "Dockerfile:3: unsupported network mode: bridge");
    refused("RUN --security=insecure true", /^Dockerfile:3: RUN --security=insecure is not supported/);
    for (const ok of ["default", "none", "host"]) {
      assert.equal(toCommand("Dockerfile", "\\", syntaxNode(`RUN --network=${ok} true`)).kind, "RUN");
    }
  });

  test("--mount: only type=cache, with target, id and sharing=shared", () => {
    refused(
      "RUN --mount=type=bind,target=/src true",
      /^Dockerfile:3: --mount=type=bind is not supported \(only type=cache\)$/,
    );
    refused("RUN --mount=target=/src true", /type=bind is not supported/);
    refused("RUN --mount=type=secret,id=x true", /type=secret is not supported/);
    refused("RUN --mount=type=tmpfs,target=/t true", /type=tmpfs is not supported/);
    refused("RUN --mount=type=bogus,target=/t true", 'Dockerfile:3: unsupported mount type "bogus"');
    refused(
      "RUN --mount=type=cache,target=/c,from=builder true",
      "Dockerfile:3: --mount=type=cache option from is not supported",
    );
    refused("RUN --mount=type=cache,target=/c,uid=1000 true", /option uid is not supported/);
    refused("RUN --mount=type=cache,target=/c,ro true", /option ro is not supported/);
    refused("RUN --mount=type=cache,target=/c,sharing=locked true", /sharing=locked is not supported/);
    refused(
      "RUN --mount=type=cache,target=/c,colour=red true",
      "Dockerfile:3: unexpected key 'colour' in 'type=cache,target=/c,colour=red'",
    );
    refused("RUN --mount=type=cache,id=x true", "Dockerfile:3: mount target must be specified");
    const ok = toCommand(
      "Dockerfile",
      "\\",
      syntaxNode("RUN --mount=type=cache,target=/c,id=npm,sharing=shared true"),
    );
    assert.equal(ok.kind, "RUN");
  });

  test("COPY --parents", () => {
    refused("COPY --parents a /b/", "Dockerfile:3: COPY --parents is not supported");
  });
});
