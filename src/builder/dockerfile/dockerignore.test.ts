/**
 * .dockerignore against moby/patternmatcher's semantics (ignorefile.ReadAll and
 * MatchesOrParentMatches; checked locally against that package's own test tables).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { cleanPath, compileIgnore, parseDockerignore } from "./dockerignore.js";

describe("parseDockerignore", () => {
  test("comments, blank lines, trimming, cleaning, leading / dropped, ! kept in front", () => {
    const text = [
      "\uFEFF# a comment",
      "node_modules",
      "",
      "   ",
      "  *.log  ",
      "/abs/path",
      "./x",
      "a//b/../c/",
      "! /inverted/abs",
      "!README.md",
      "  # not a comment: the # is not in the first column",
      "dir/\r",
      "/",
    ].join("\n");
    assert.deepEqual(parseDockerignore(text), [
      "node_modules",
      "*.log",
      "abs/path",
      "x",
      "a/c",
      "!inverted/abs",
      "!README.md",
      "# not a comment: the # is not in the first column",
      "dir",
      "/",
    ]);
  });

  test("a lone ! is kept (and refused by compileIgnore)", () => {
    assert.deepEqual(parseDockerignore("!\n! "), ["!", "!"]);
    assert.throws(
      () => compileIgnore(["!"]),
      (err: unknown) =>
        isBerthError(err, "InvalidArgument") && err.message === 'illegal exclusion pattern: "!"',
    );
  });

  test("cleanPath is Go's path.Clean", () => {
    assert.equal(cleanPath(""), ".");
    assert.equal(cleanPath("./"), ".");
    assert.equal(cleanPath("a/./b/"), "a/b");
    assert.equal(cleanPath("a/../../b"), "../b");
    assert.equal(cleanPath("/../a"), "/a");
    assert.equal(cleanPath("//a//b"), "/a/b");
  });
});

/** [patterns, path, ignored] */
const CASES: ReadonlyArray<readonly [readonly string[], string, boolean]> = [
  // plain names and directories: a match on a directory covers everything under it
  [["node_modules"], "node_modules", true],
  [["node_modules"], "node_modules/x/y.js", true],
  [["node_modules"], "src/node_modules", false],
  [["dir/"], "dir/file", true],
  [["dir"], "dirx", false],
  // * and ? do not cross /
  [["*.md"], "README.md", true],
  [["*.md"], "docs/README.md", false],
  [["*/*.md"], "docs/README.md", true],
  [["a?c"], "abc", true],
  [["a?c"], "a/c", false],
  [["*"], "anything", true],
  [["*"], "dir/deep/file", true], // through its parent dir
  // ** is any number of directories, zero included
  [["**/*.go"], "main.go", true],
  [["**/*.go"], "cmd/tool/main.go", true],
  [["**/*.go"], "main.go.txt", false],
  [["**/vendor"], "vendor/x", true],
  [["**/vendor"], "a/b/vendor/x", true],
  [["a/**/b"], "a/b", true],
  [["a/**/b"], "a/x/y/b", true],
  [["dir/**"], "dir", false],
  [["dir/**"], "dir/a/b", true],
  [["**"], "x/y", true],
  [["**file"], "dir/myfile", true],
  // classes and escapes
  [["file[0-9].txt"], "file7.txt", true],
  [["file[0-9].txt"], "filex.txt", false],
  [["file[^0-9].txt"], "filex.txt", true],
  [["a\\*b"], "a*b", true],
  [["a\\*b"], "axb", false],
  // regular-expression characters are literal
  [["a.b"], "axb", false],
  [["a+(b)|{c}$"], "a+(b)|{c}$", true],
  // leading / and ./ are the same as without
  [["/abs"], "abs", true],
  [["/abs"], "x/abs", false],
  [["./x"], "x", true],
  // exceptions: the last matching pattern wins
  [["*.md", "!README*.md"], "README.md", false],
  [["*.md", "!README*.md"], "README-dev.md", false],
  [["*.md", "!README*.md"], "CHANGELOG.md", true],
  [["*.md", "!README*.md", "README-secret.md"], "README-secret.md", true],
  [["!important.md", "*.md"], "important.md", true],
  [["docs", "!docs/README.md"], "docs/README.md", false],
  [["docs", "!docs/README.md"], "docs/other.md", true],
  [["**", "!src"], "src/a/b.ts", false],
  [["**", "!src", "src/gen"], "src/gen/x.ts", true],
  // the context root itself is never ignored
  [["*"], ".", false],
  [["**"], "", false],
  [[], "anything", false],
];

describe("compileIgnore: ignores", () => {
  for (const [patterns, path, ignored] of CASES) {
    test(`${JSON.stringify(patterns)} ${ignored ? "ignores" : "keeps"} ${JSON.stringify(path)}`, () => {
      assert.equal(compileIgnore(parseDockerignore(patterns.join("\n"))).ignores(path), ignored);
    });
  }

  test("malformed patterns are refused", () => {
    for (const bad of ["[", "a[", "[^bc", "[]a]", "[x-]", "[a-b-c]", "x\\"]) {
      assert.throws(
        () => compileIgnore([bad]),
        (err: unknown) =>
          isBerthError(err, "InvalidArgument") && err.message.startsWith("syntax error in pattern"),
        bad,
      );
    }
  });
});

describe("compileIgnore: mayIncludeUnder", () => {
  test("false without exceptions, or when no exception can reach under the directory", () => {
    assert.equal(compileIgnore(["node_modules"]).mayIncludeUnder("node_modules"), false);
    assert.equal(compileIgnore(["docs", "!src/keep"]).mayIncludeUnder("docs"), false);
    assert.equal(compileIgnore(["a", "!a/b/c"]).mayIncludeUnder("a/x"), false);
  });

  test("true when an exception names a path below, through wildcards, or with **", () => {
    assert.equal(compileIgnore(["docs", "!docs/README.md"]).mayIncludeUnder("docs"), true);
    assert.equal(compileIgnore(["a", "!a/b/c"]).mayIncludeUnder("a/b"), true);
    assert.equal(compileIgnore(["*", "!*/keep"]).mayIncludeUnder("anything"), true);
    assert.equal(compileIgnore(["build", "!**/keep.txt"]).mayIncludeUnder("build"), true);
  });

  test("consistent with ignores: a walker that skips when it says false loses nothing", () => {
    const m = compileIgnore(["docs", "!docs/api/*.md", "cache"]);
    assert.equal(m.ignores("docs"), true);
    assert.equal(m.mayIncludeUnder("docs"), true);
    assert.equal(m.ignores("docs/api/index.md"), false);
    assert.equal(m.ignores("docs/api/img.png"), true);
    assert.equal(m.ignores("cache"), true);
    assert.equal(m.mayIncludeUnder("cache"), false);
  });
});
