/**
 * The typed instructions (`parseCommand`) against BuildKit's instructions package: each kind's
 * fields as written (unexpanded) and its checks with Docker's wording.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertInvalid } from "../../base/test-support.js";
import type { Instruction } from "./ast.js";
import { type Command, parseCommand } from "./commands.js";
import { parseDockerfile } from "./parse.js";
import { syntaxNode } from "./test-support.js";

/** The instructions after `FROM a`, typed. */
function commands(text: string): Command[] {
  const df = parseDockerfile(`FROM a\n${text}`, { file: "Dockerfile" });
  return df.instructions.slice(1).map((i) => parseCommand(i, df.escape));
}

function one(text: string): Command {
  const [c] = commands(text);
  assert.ok(c);
  return c;
}

describe("parseCommand: one typed instruction per kind", () => {
  test("FROM: base, stage name and platform as written", () => {
    const df = parseDockerfile("FROM --platform=$P img:1 AS Build", { file: "Dockerfile" });
    const c = parseCommand(df.instructions[0] as Instruction, "\\");
    assert.equal(c.kind, "FROM");
    if (c.kind === "FROM") {
      assert.deepEqual([c.base, c.stageName, c.platform], ["img:1", "Build", "$P"]);
      assert.equal(c.node.startLine, 1);
    }
  });

  test("RUN: exec and shell forms, mounts split into type and fields, network, heredocs", () => {
    const exec = one('RUN ["echo", "a b"]');
    assert.ok(exec.kind === "RUN" && exec.command.form === "exec");
    if (exec.kind === "RUN" && exec.command.form === "exec")
      assert.deepEqual(exec.command.argv, ["echo", "a b"]);
    const c = one(
      "RUN --mount=type=cache,target=/c,id=x --mount=target=/b --network=none <<EOF\necho hi\nEOF",
    );
    assert.equal(c.kind, "RUN");
    if (c.kind !== "RUN") return;
    assert.deepEqual(c.command, { form: "shell", text: "<<EOF" });
    assert.deepEqual(
      c.mounts.map((m) => [m.type, m.options]),
      [
        [
          "cache",
          [
            ["target", "/c"],
            ["id", "x"],
          ],
        ],
        ["bind", [["target", "/b"]]],
      ],
    );
    assert.equal(c.network, "none");
    assert.equal(c.heredocs[0]?.content, "echo hi\n");
    assert.deepEqual([c.node.startLine, c.node.endLine], [2, 4]);
  });

  test("COPY and ADD: sources and destination unexpanded, flags typed", () => {
    const c = one("COPY --from=$S --chown=u:g --chmod=644 --link --exclude=*.md a $B /dst/");
    assert.equal(c.kind, "COPY");
    if (c.kind === "COPY") {
      assert.deepEqual(c.sources, ["a", "$B"]);
      assert.equal(c.dest, "/dst/");
      assert.deepEqual(
        [c.from, c.chown, c.chmod, c.link, c.excludes, c.parents],
        ["$S", "u:g", "644", true, ["*.md"], false],
      );
    }
    const a = one("ADD --checksum=sha256:00 --link=false http://127.0.0.1/x /x");
    assert.equal(a.kind, "ADD");
    if (a.kind === "ADD")
      assert.deepEqual([a.checksum, a.link, a.keepGitDir, a.unpack], ["sha256:00", false, false, undefined]);
  });

  test("ENV, LABEL and ARG: pairs as written (expanded only when dispatched)", () => {
    assert.deepEqual(one('ENV A=1 B="$A x"'), {
      kind: "ENV",
      node: one('ENV A=1 B="$A x"').node,
      pairs: [
        ["A", "1"],
        ["B", '"$A x"'],
      ],
    });
    const legacy = one("LABEL maintainer someone else");
    if (legacy.kind === "LABEL") assert.deepEqual(legacy.pairs, [["maintainer", "someone else"]]);
    const arg = one("ARG A B=2");
    if (arg.kind === "ARG")
      assert.deepEqual(arg.pairs, [
        ["A", undefined],
        ["B", "2"],
      ]);
  });

  test("HEALTHCHECK: durations parsed to nanoseconds at parse time; NONE", () => {
    const h = one("HEALTHCHECK --interval=30s --retries=3 CMD curl -f localhost");
    assert.equal(h.kind, "HEALTHCHECK");
    if (h.kind === "HEALTHCHECK" && h.check.type === "CMD") {
      assert.deepEqual(h.check.command, { form: "shell", text: "curl -f localhost" });
      assert.deepEqual([h.check.interval, h.check.timeout, h.check.retries], [30e9, undefined, 3]);
    }
    const none = one("HEALTHCHECK NONE");
    if (none.kind === "HEALTHCHECK") assert.deepEqual(none.check, { type: "NONE" });
  });

  test("ONBUILD: the trigger's keyword and the expression the image records", () => {
    const c = one("ONBUILD  run   echo hi");
    assert.equal(c.kind, "ONBUILD");
    if (c.kind === "ONBUILD") assert.deepEqual([c.trigger, c.expression], ["RUN", "run   echo hi"]);
  });

  test("each kind's checks live with its parse, in Docker's wording", () => {
    assertInvalid(
      () => parseCommand(syntaxNode("COPY --frm=x a b"), "\\"),
      "unknown flag: --frm (did you mean from?)",
    );
    assertInvalid(() => parseCommand(syntaxNode("WORKDIR"), "\\"), "WORKDIR requires exactly one argument");
    assertInvalid(() => parseCommand(syntaxNode("COPY a"), "\\"), /^COPY requires at least two arguments/);
    assertInvalid(
      () => parseCommand(syntaxNode("RUN --network=none --network=host x"), "\\"),
      "duplicate flag specified: --network",
    );
    assertInvalid(
      () => parseCommand(syntaxNode("HEALTHCHECK --timeout=1us CMD x"), "\\"),
      'Interval "timeout" cannot be less than 1ms',
    );
    assertInvalid(
      () => parseCommand(syntaxNode("ONBUILD FROM x"), "\\"),
      "FROM isn't allowed as an ONBUILD trigger",
    );
    assertInvalid(
      () => parseCommand(syntaxNode("COPPY a b"), "\\"),
      "unknown instruction: COPPY (did you mean COPY?)",
    );
    assertInvalid(
      () => parseCommand(syntaxNode("SHELL sh -c"), "\\"),
      "SHELL requires the arguments to be in JSON form",
    );
  });
});
