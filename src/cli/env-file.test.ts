import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { parseKeyValueFile } from "./env-file.js";

const env: Record<string, string> = { HOME: "/home/me", EMPTY: "" };
const parse = (text: string | Uint8Array, label = false) =>
  parseKeyValueFile(typeof text === "string" ? Buffer.from(text) : text, {
    name: "./vars",
    ...(label ? {} : { lookup: (k: string) => env[k], dropUnknown: true }),
  });

function refused(text: string | Uint8Array, message: string): void {
  assert.throws(
    () => parse(text),
    (err: unknown) => isBerthError(err, "InvalidArgument") && (err as Error).message === message,
  );
}

describe("env files as Docker's CLI reads them", () => {
  test("KEY=value lines pass through untouched: no quotes removed, no trimming, no expansion", () => {
    assert.deepEqual(parse(`A=1\nB="quoted" \nC='x'\nD=$HOME\nE=a=b\nF=\n`), [
      "A=1",
      'B="quoted" ',
      "C='x'",
      "D=$HOME",
      "E=a=b",
      "F=",
    ]);
  });

  test("leading white space, blank lines and comments are skipped; CRLF endings lose the CR", () => {
    assert.deepEqual(parse("  \t A=1\r\n\n   \n# comment\n  # indented comment\nB=2 # not a comment\r\n"), [
      "A=1",
      "B=2 # not a comment",
    ]);
  });

  test("the last line needs no newline; a UTF-8 byte-order mark on the first line is dropped", () => {
    assert.deepEqual(parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("A=é\nB=2")])), [
      "A=é",
      "B=2",
    ]);
  });

  test("a key alone takes our environment's value, and is dropped when we have none", () => {
    assert.deepEqual(parse("HOME\nEMPTY\nUNSET\n"), ["HOME=/home/me", "EMPTY="]);
  });

  test("label files keep a key alone as it is", () => {
    assert.deepEqual(parse("com.example.flag\nk=v\n", true), ["com.example.flag", "k=v"]);
  });

  test("a key with blanks in it is refused, as `export X=1` is", () => {
    refused("A=1\nexport X=1\n", "poorly formatted environment: variable 'export X' contains whitespaces");
    refused("MY VAR\n", "poorly formatted environment: variable 'MY VAR' contains whitespaces");
    refused("KEY =1\n", "poorly formatted environment: variable 'KEY ' contains whitespaces");
    refused("KEY\t=1\n", "poorly formatted environment: variable 'KEY\t' contains whitespaces");
  });

  test("a line with no key is refused", () => {
    refused("=value\n", "poorly formatted environment: no variable name on line '=value'");
  });

  test("bytes that are not UTF-8 are refused with the line and the bytes", () => {
    refused(
      Buffer.from([0x41, 0x3d, 0x31, 0x0a, 0x42, 0x3d, 0xff, 0x0a]),
      "env file ./vars contains invalid utf8 bytes at line 2: [66 61 255]",
    );
  });

  test("a line of 64 KiB or more is refused (Go's bufio.Scanner limit)", () => {
    assert.equal(parse(`A=${"x".repeat(65533)}\n`).length, 1);
    refused(`A=${"x".repeat(65534)}\n`, "bufio.Scanner: token too long");
  });
});
