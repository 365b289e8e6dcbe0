import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { errorMessage, notFound, systemErrorText } from "./errors.js";

/** A Node system error as fs raises it (code, syscall, path, message). */
function systemError(code: string, syscall: string, path?: string, dest?: string): Error {
  const e = new Error(`${code}: some text, ${syscall} '${path ?? ""}'`);
  return Object.assign(e, { code, syscall, ...(path ? { path } : {}), ...(dest ? { dest } : {}) });
}

describe("errorMessage", () => {
  test("Node's system errors read as Go's (Docker's) text", () => {
    assert.equal(
      errorMessage(systemError("ENOENT", "open", "/nope")),
      "open /nope: no such file or directory",
    );
    assert.equal(errorMessage(systemError("EEXIST", "open", "/x")), "open /x: file exists");
    assert.equal(
      errorMessage(systemError("EXDEV", "rename", "/a", "/b")),
      "rename /a /b: invalid cross-device link",
    );
    assert.equal(errorMessage(systemError("EPIPE", "write")), "write: some text");
  });

  test("other errors keep their message", () => {
    assert.equal(errorMessage(notFound("No such container: x")), "No such container: x");
    assert.equal(errorMessage(new Error("plain")), "plain");
    assert.equal(systemErrorText(new Error("plain")), undefined);
    assert.equal(errorMessage("text"), "text");
  });
});
