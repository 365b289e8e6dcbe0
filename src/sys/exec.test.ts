import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import {
  ExecError,
  execChecked,
  execProgram,
  execProgramRaw,
  execProgramSync,
  launchProgram,
} from "./exec.js";

describe("running host programs", () => {
  test("execProgram gives the exit code and output; a non-zero exit is no error", async () => {
    const r = await execProgram("sh", ["-c", "cat; echo err >&2; exit 3"], { input: "in" });
    assert.deepEqual(r, { code: 3, stdout: "in", stderr: "err\n" });
  });

  test("execProgramRaw keeps bytes that are not UTF-8", async () => {
    const r = await execProgramRaw("cat", [], { input: Buffer.from([0xff, 0x00, 0xfe]) });
    assert.equal(r.code, 0);
    assert.deepEqual([...r.stdout], [0xff, 0x00, 0xfe]);
  });

  test("a missing program is FailedPrecondition naming its package, in every form", async () => {
    const missing = "berth-no-such-program";
    const named = (err: unknown) =>
      isBerthError(err, "FailedPrecondition") &&
      err.message === `${missing} not found: install the Debian package pkg-x`;
    await assert.rejects(execProgram(missing, [], { pkg: "pkg-x" }), named);
    assert.throws(() => execProgramSync(missing, [], { pkg: "pkg-x" }), named);
    await assert.rejects(launchProgram(missing, [], { stdio: "ignore", pkg: "pkg-x" }).failed, named);
  });

  test("execProgramSync gives the exit code and stderr; a timeout is killed, not thrown", () => {
    const r = execProgramSync("sh", ["-c", "read x; echo $x >&2; exit 4"], { input: "hello\n" });
    assert.equal(r.code, 4);
    assert.equal(r.stderr, "hello\n");
    const slow = execProgramSync("sleep", ["5"], { timeoutMs: 50 });
    assert.equal(slow.code, 128);
  });

  test("execChecked: a non-zero exit is an ExecError (Internal) with the last stderr line", async () => {
    const err = await execChecked("sh", ["-c", "echo first >&2; echo last >&2; exit 1"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ExecError);
    assert.equal(err.kind, "Internal");
    assert.match(err.message, /: last$/);
    assert.equal(err.result.code, 1);
  });
});
