// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile text holds ${VAR} on purpose
/**
 * The Dockerfile parser against BuildKit's frontend/dockerfile/parser and instructions rules:
 * regression snapshots (testdata/<name>.Dockerfile → testdata/<name>.json, one per syntax
 * feature, recorded from berth itself — BERTH_UPDATE_GOLDEN=1 rewrites them; BuildKit's own test
 * files are the reference, in conformance.test.ts) and a table of malformed Dockerfiles with their
 * `file:line: message` errors in Docker's wording.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { isBerthError } from "../../base/errors.js";
import type { Dockerfile } from "./ast.js";
import { dockerfileSyntaxError, onbuildExpression, parseDockerfile, parseGoDuration } from "./parse.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = [resolve(here, "../../.."), resolve(here, "../../../..")].find((d) => {
  try {
    return (
      statSync(join(d, "package.json")).isFile() && statSync(join(d, "src/builder/dockerfile")).isDirectory()
    );
  } catch {
    return false;
  }
});
const testdata = join(repo ?? "", "src/builder/dockerfile/testdata");
const UPDATE = process.env.BERTH_UPDATE_GOLDEN === "1";

/** Stable JSON for the golden files: every field present (undefined as null), two-space indent. */
function serialize(df: Dockerfile): string {
  return `${JSON.stringify(df, (_k, v: unknown) => (v === undefined ? null : v), 2)}\n`;
}

function throwsMessage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, "InvalidArgument"), `expected InvalidArgument, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

const parse = (text: string, file = "Dockerfile") => parseDockerfile(text, { file });

describe("golden Dockerfiles", () => {
  const inputs = readdirSync(testdata).filter((f) => f.endsWith(".Dockerfile"));
  test("there are golden inputs", () =>
    assert.ok(inputs.length >= 10, `only ${inputs.length} in ${testdata}`));
  for (const input of inputs) {
    const name = input.slice(0, -".Dockerfile".length);
    test(name, () => {
      const text = serialize(parse(readFileSync(join(testdata, input), "utf8"), input));
      const file = join(testdata, `${name}.json`);
      if (UPDATE) writeFileSync(file, text);
      assert.ok(existsSync(file), `${file} missing; run with BERTH_UPDATE_GOLDEN=1`);
      assert.equal(text, readFileSync(file, "utf8"));
    });
  }
});

/** [Dockerfile text, expected message] — the file name is `Dockerfile`. */
const ERRORS: ReadonlyArray<readonly [string, string]> = [
  // unknown instructions, with BuildKit's suggestion when one is close
  [
    "FROM a\nRUN x\n\n# c\nENV A=1\nWORKDIR /\nCOPPY a b",
    "Dockerfile:7: unknown instruction: COPPY (did you mean COPY?)",
  ],
  ["FROM a\ncoppy a b", "Dockerfile:2: unknown instruction: coppy (did you mean copy?)"],
  ["FROM a\nBOGUS x", "Dockerfile:2: unknown instruction: BOGUS"],
  ["FROM a\nRUN a \\\n  b\nFROMM x", "Dockerfile:4: unknown instruction: FROMM (did you mean FROM?)"],
  // stages
  ["RUN echo hi", "Dockerfile:1: no build stage in current context"],
  ["ARG A\nENV B=1\nFROM a", "Dockerfile:2: no build stage in current context"],
  ["ARG A\nARG B", "Dockerfile:2: dockerfile contains no stages to build"],
  ["", "Dockerfile:1: file with no instructions"],
  ["# only\n\n# comments\n", "Dockerfile:3: file with no instructions"],
  // FROM
  ["FROM", "Dockerfile:1: FROM requires either one or three arguments"],
  ["FROM a b", "Dockerfile:1: FROM requires either one or three arguments"],
  ["FROM a AS b c", "Dockerfile:1: FROM requires either one or three arguments"],
  [
    "FROM a AS 1st",
    `Dockerfile:1: invalid name for build stage: "1st", name can't start with a number or contain symbols`,
  ],
  [
    "FROM a AS b$c",
    `Dockerfile:1: invalid name for build stage: "b$c", name can't start with a number or contain symbols`,
  ],
  ["FROM --platform a", "Dockerfile:1: missing a value on flag: --platform"],
  // ENV, LABEL, ARG
  ["FROM a\nENV", "Dockerfile:2: ENV requires at least one argument"],
  ["FROM a\nENV x", "Dockerfile:2: ENV must have two arguments"],
  ["FROM a\nENV =x", "Dockerfile:2: ENV names can not be blank"],
  ["FROM a\nENV a=1 b", `Dockerfile:2: Syntax error - can't find = in "b". Must be of the form: name=value`],
  ["FROM a\nLABEL", "Dockerfile:2: LABEL requires at least one argument"],
  ["FROM a\nLABEL =x", "Dockerfile:2: LABEL names can not be blank"],
  ["FROM a\nLABEL k", "Dockerfile:2: LABEL must have two arguments"],
  ["ARG\nFROM a", "Dockerfile:1: ARG requires at least one argument"],
  ["ARG =x\nFROM a", "Dockerfile:1: ARG names can not be blank"],
  // COPY, ADD
  [
    "FROM a\nCOPY a",
    "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined",
  ],
  [
    "FROM a\nADD",
    "Dockerfile:2: ADD requires at least two arguments, but only one was provided. Destination could not be determined",
  ],
  ["FROM a\nCOPY x <<EOF\nhi\nEOF", "Dockerfile:2: COPY cannot accept a heredoc as a destination"],
  // flags
  ["FROM a\nCOPY --frm=x a b", "Dockerfile:2: unknown flag: --frm (did you mean from?)"],
  ["FROM a\nRUN --bogus echo", "Dockerfile:2: unknown flag: --bogus"],
  ["FROM a\nCMD --verbose x", "Dockerfile:2: unknown flag: --verbose"],
  ["FROM a\nENV --x=1 A=1", "Dockerfile:2: unknown flag: --x"],
  ["FROM a\nCOPY --from a b", "Dockerfile:2: missing a value on flag: --from"],
  ["FROM a\nCOPY --link= a b", "Dockerfile:2: missing a value on flag: --link"],
  ["FROM a\nCOPY --link=maybe a b", "Dockerfile:2: expecting boolean value for flag --link, not: maybe"],
  ["FROM a\nCOPY --from=a --from=b a b", "Dockerfile:2: duplicate flag specified: --from"],
  // exec form
  [
    'FROM a\nRUN ["echo", 1]',
    "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only",
  ],
  [
    'FROM a\nCOPY ["a", null]',
    "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only",
  ],
  ["FROM a\nSHELL /bin/sh -c", "Dockerfile:2: SHELL requires the arguments to be in JSON form"],
  ["FROM a\nSHELL []", "Dockerfile:2: SHELL requires at least one argument"],
  ['FROM a\nVOLUME ["/a", " "]', "Dockerfile:2: VOLUME specified can not be an empty string"],
  // heredocs
  ["FROM a\nRUN <<EOF\necho hi\n", "Dockerfile:2: unterminated heredoc"],
  ["FROM a\nRUN <<A <<B\na\nA\nb\n", "Dockerfile:2: unterminated heredoc"],
  ["FROM a\nRUN <<-EOF\n  EOF\n", "Dockerfile:2: unterminated heredoc"],
  // arguments required
  ["FROM a\nWORKDIR", "Dockerfile:2: WORKDIR requires exactly one argument"],
  ["FROM a\nUSER", "Dockerfile:2: USER requires exactly one argument"],
  ["FROM a\nMAINTAINER", "Dockerfile:2: MAINTAINER requires exactly one argument"],
  ["FROM a\nSTOPSIGNAL", "Dockerfile:2: STOPSIGNAL requires exactly one argument"],
  ["FROM a\nEXPOSE", "Dockerfile:2: EXPOSE requires at least one argument"],
  ["FROM a\nVOLUME", "Dockerfile:2: VOLUME requires at least one argument"],
  // HEALTHCHECK
  ["FROM a\nHEALTHCHECK", "Dockerfile:2: HEALTHCHECK requires at least one argument"],
  ["FROM a\nHEALTHCHECK NONE x", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"],
  ["FROM a\nHEALTHCHECK CURL x", `Dockerfile:2: Unknown type "CURL" in HEALTHCHECK (try CMD)`],
  ["FROM a\nHEALTHCHECK CMD", "Dockerfile:2: Missing command after HEALTHCHECK CMD"],
  ["FROM a\nHEALTHCHECK --interval=1ns CMD x", `Dockerfile:2: Interval "interval" cannot be less than 1ms`],
  ["FROM a\nHEALTHCHECK --timeout=5 CMD x", `Dockerfile:2: time: missing unit in duration "5"`],
  ["FROM a\nHEALTHCHECK --timeout=5x CMD x", `Dockerfile:2: time: unknown unit "x" in duration "5x"`],
  ["FROM a\nHEALTHCHECK --retries=-1 CMD x", "Dockerfile:2: --retries cannot be negative (-1)"],
  ["FROM a\nHEALTHCHECK --retries=x CMD x", `Dockerfile:2: strconv.ParseInt: parsing "x": invalid syntax`],
  ["FROM a\nHEALTHCHECK --interval CMD x", "Dockerfile:2: missing a value on flag: --interval"],
  // ONBUILD
  ["FROM a\nONBUILD", "Dockerfile:2: ONBUILD requires at least one argument"],
  ["FROM a\nONBUILD ONBUILD RUN x", "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
  ["FROM a\nONBUILD from b", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"],
  ["FROM a\nONBUILD MAINTAINER me", "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"],
  [
    'FROM a\nONBUILD RUN ["x", 2]',
    "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only",
  ],
  // directives
  ["# escape=`\n# escape=\\\nFROM a", "Dockerfile:2: only one escape parser directive can be used"],
  ["# syntax=a\n# SYNTAX=b\nFROM a", "Dockerfile:2: only one syntax parser directive can be used"],
  ["# escape=x\nFROM a", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"],
];

describe("errors name the file, the line and what is wrong", () => {
  for (const [text, message] of ERRORS) {
    test(message, () => {
      assert.throws(
        () => parse(text),
        (err: unknown) => {
          assert.ok(isBerthError(err, "InvalidArgument"), `expected InvalidArgument, got ${String(err)}`);
          assert.equal(err.message, message);
          return true;
        },
      );
    });
  }

  test("the file name is the one given (a -f path) and the error carries file, line and message", () => {
    try {
      parse("FROM a\n\nBOGUS bar", "build/Dockerfile.dev");
      assert.fail("no error");
    } catch (err) {
      assert.ok(isBerthError(err, "InvalidArgument"));
      assert.equal(err.message, "build/Dockerfile.dev:3: unknown instruction: BOGUS");
      assert.deepEqual(dockerfileSyntaxError(err), {
        file: "build/Dockerfile.dev",
        line: 3,
        message: "unknown instruction: BOGUS",
      });
    }
    assert.equal(dockerfileSyntaxError(new Error("x")), undefined);
  });

  test("an error in a continued instruction names its first line", () => {
    throwsMessage(() => parse("FROM a\nCOPY \\\n  --frm=x \\\n  a b"), /^Dockerfile:2: unknown flag: --frm/);
  });

  test("syntax errors of the whole file come before instruction errors, as Docker parses in two passes", () => {
    throwsMessage(() => parse("FROM a\nBOGUS\nRUN <<EOF\n"), /^Dockerfile:3: unterminated heredoc$/);
  });
});

describe("parser details", () => {
  test("flags are taken for every instruction but only before the arguments; -- ends them", () => {
    const df = parse("FROM a\nRUN echo --x\nCOPY -- --from=x /d\nRUN --network=none -- --x");
    assert.deepEqual(
      df.instructions.map((i) => [i.keyword, i.flags, i.args]),
      [
        ["FROM", [], "a"],
        ["RUN", [], "echo --x"],
        ["COPY", [], "--from=x /d"],
        ["RUN", [{ name: "network", value: "none" }], "--x"],
      ],
    );
  });

  test("STOPSIGNAL and HEALTHCHECK NONE keep flags unchecked, as Docker ignores them", () => {
    const df = parse("FROM a\nSTOPSIGNAL --x SIGTERM\nHEALTHCHECK --bogus NONE");
    assert.deepEqual(df.instructions[1]?.flags, [{ name: "x", value: undefined }]);
    assert.deepEqual(df.instructions[2]?.flags, [{ name: "bogus", value: undefined }]);
  });

  test("a bare boolean flag has an undefined value; repeated list flags are kept in order", () => {
    const df = parse(
      "FROM a\nCOPY --link a b\nRUN --mount=type=tmpfs,target=/a --mount=type=cache,target=/b x",
    );
    assert.deepEqual(df.instructions[1]?.flags, [{ name: "link", value: undefined }]);
    assert.deepEqual(
      df.instructions[2]?.flags.map((f) => f.value),
      ["type=tmpfs,target=/a", "type=cache,target=/b"],
    );
  });

  test("ONBUILD: the trigger is parsed, and its expression is what Docker records", () => {
    const df = parse("FROM a\nONBUILD COPY --from=b <<EOF /x\nhello\nEOF\nONBUILD  run   echo hi");
    const [, withHeredoc, plain] = df.instructions;
    assert.ok(withHeredoc && plain);
    assert.equal(withHeredoc.trigger?.keyword, "COPY");
    assert.deepEqual(withHeredoc.trigger?.flags, [{ name: "from", value: "b" }]);
    assert.equal(withHeredoc.heredocs[0]?.content, "hello\n");
    assert.equal(onbuildExpression(withHeredoc), "COPY --from=b <<EOF /x\nhello\nEOF");
    assert.equal(plain.trigger?.keyword, "RUN");
    assert.equal(onbuildExpression(plain), "run   echo hi");
  });

  test("triggers mode parses an image's OnBuild list: no FROM needed, FROM refused", () => {
    const df = parseDockerfile("RUN echo a\nCOPY . /app", { file: "Dockerfile", triggers: true });
    assert.deepEqual(
      df.instructions.map((i) => i.keyword),
      ["RUN", "COPY"],
    );
    throwsMessage(
      () => parseDockerfile("FROM x", { file: "Dockerfile", triggers: true }),
      /^Dockerfile:1: FROM isn't allowed as an ONBUILD trigger$/,
    );
  });

  test("a file without a trailing newline and one with a UTF-8 BOM parse the same", () => {
    const a = parse("FROM a\nRUN x");
    const b = parse("\uFEFFFROM a\nRUN x\n");
    assert.deepEqual(a, b);
  });

  test("Go durations", () => {
    assert.equal(parseGoDuration("1m30s"), 90e9);
    assert.equal(parseGoDuration("1.5h"), 5400e9);
    assert.equal(parseGoDuration("300ms"), 300e6);
    assert.equal(parseGoDuration("0"), 0);
    assert.equal(parseGoDuration("-2s"), -2e9);
    assert.equal(parseGoDuration(".5s"), 5e8);
    assert.throws(() => parseGoDuration(""), /time: invalid duration ""/);
    assert.throws(() => parseGoDuration("s"), /time: invalid duration "s"/);
  });
});

test("a physical line over BuildKit's 65535 bytes is refused with its line number", () => {
  const ok = `FROM scratch\nLABEL a=${"x".repeat(65535 - 10)}\n`;
  assert.doesNotThrow(() => parseDockerfile(ok, { file: "Dockerfile" }));
  const long = `FROM scratch\n\nLABEL a=${"x".repeat(65535)}\n`;
  assert.throws(
    () => parseDockerfile(long, { file: "Dockerfile" }),
    /^BerthError: Dockerfile:3: dockerfile line greater than max allowed size of 65535$/,
  );
});
