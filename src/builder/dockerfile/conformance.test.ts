/**
 * The Dockerfile parser against BuildKit's own parser tests, read at run time from the shared
 * conformance data (`../shared/conformance-data/buildkit/` beside the checkout, or the nearest
 * such directory further up, or the workplace's; never copied into the project): every `testfiles/<case>/Dockerfile` parsed and dumped as BuildKit's `Node.Dump()`
 * prints its AST must equal that case's `result`; `testfiles-negative` must be refused; the line
 * ranges of `testfile-line`, the `parseWords` table, the JSON-array tables and the heredoc tables
 * of parser_test.go / json_test.go / parser_heredoc_test.go must hold.
 *
 * Where berth deliberately differs, the case is listed in KNOWN_DIFFERENCES with the reason; such
 * a case is still run and must fail the way the entry says (so a fixed parser shows up), and the
 * count of them is part of the report test.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { isBerthError } from "../../base/errors.js";
import type { Instruction } from "./ast.js";
import { splitWhitespace, splitWords } from "./expand.js";
import { heredocWord, parseDockerfile, parseDockerfileSyntax } from "./parse.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = [resolve(here, "../../.."), resolve(here, "../../../..")].find((d) => {
  try {
    return (
      statSync(join(d, "package.json")).isFile() &&
      statSync(join(d, "src/builder/dockerfile/parse.ts")).isFile()
    );
  } catch {
    return false;
  }
});
/**
 * Where the conformance data is: `BERTH_CONFORMANCE_DATA` (the `conformance-data` directory), else
 * `../shared/conformance-data` beside the checkout or any directory above it (a worktree), else the
 * workplace's `/work/shared`. Undefined when none has it.
 */
function conformanceData(): { dir: string | undefined; looked: string[] } {
  const looked: string[] = [];
  const env = process.env.BERTH_CONFORMANCE_DATA;
  if (env) looked.push(join(env, "buildkit"));
  for (let dir = resolve(repo ?? ".", ".."); ; dir = dirname(dir)) {
    looked.push(join(dir, "shared", "conformance-data", "buildkit"));
    if (dirname(dir) === dir) break;
  }
  looked.push("/work/shared/conformance-data/buildkit");
  return { dir: looked.find((d) => existsSync(join(d, "testfiles"))), looked };
}
const FOUND = conformanceData();
const DATA = FOUND.dir ?? "";
/**
 * A clone with no conformance data beside it (a CI checkout elsewhere) reports the check as a
 * todo naming where it looked, rather than failing or passing it; everywhere the data is, it runs.
 */
const suite = (name: string, fn: () => void): void => {
  if (FOUND.dir !== undefined) describe(name, fn);
  else
    test(name, {
      todo: `BuildKit conformance data not found (looked in ${FOUND.looked.join(", ")}; set BERTH_CONFORMANCE_DATA)`,
    });
};

/**
 * BuildKit test files whose dump berth does not reproduce, with the reason. The value is what
 * berth gives instead: the error message it refuses the file with.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, { readonly reason: string; readonly error: RegExp }>> = {};

/** Go's strconv.Quote for the strings a Dockerfile holds. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c >= 0x80 && c <= 0x9f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The `Next` list BuildKit's line parser for this keyword builds (its dispatch table). */
function nextValues(instr: Instruction, esc: "\\" | "`"): string[] {
  const args = instr.args;
  switch (instr.keyword) {
    case "ADD":
    case "COPY":
    case "VOLUME":
      return instr.json ? [...instr.json] : splitWhitespace(args);
    case "ARG":
      return splitWords(args, { escape: esc });
    case "CMD":
    case "ENTRYPOINT":
    case "RUN":
    case "SHELL":
      return instr.json ? [...instr.json] : args === "" ? [] : [args];
    case "ENV":
    case "LABEL": {
      const words = splitWords(args, { escape: esc });
      if (words.length === 0) return [];
      if (!(words[0] as string).includes("=")) {
        const m = /[\t\v\f\r ]+/.exec(args) as RegExpExecArray;
        return [args.slice(0, m.index), args.slice(m.index + m[0].length), ""];
      }
      return words.flatMap((w) => {
        const eq = w.indexOf("=");
        return [w.slice(0, eq), w.slice(eq + 1), "="];
      });
    }
    case "EXPOSE":
    case "FROM":
      return splitWhitespace(args);
    case "HEALTHCHECK": {
      const sep = /\s/.exec(args);
      if (!sep) return args === "" ? [] : [args];
      const cmd = args.slice(sep.index).trimStart();
      return [args.slice(0, sep.index), ...(instr.json ? instr.json : cmd === "" ? [] : [cmd])];
    }
    case "MAINTAINER":
    case "STOPSIGNAL":
    case "USER":
    case "WORKDIR":
      return args === "" ? [] : [args];
    default:
      return [];
  }
}

/** One instruction as BuildKit's `Node.Dump()` prints it. */
function dumpInstruction(instr: Instruction, esc: "\\" | "`"): string {
  let out = instr.keyword.toLowerCase();
  if (instr.flags.length > 0) {
    const raw = instr.flags.map((f) =>
      goQuote(f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`),
    );
    out += ` [${raw.join(" ")}]`;
  }
  if (instr.keyword === "ONBUILD" && instr.trigger) {
    return `${out} (${dumpInstruction(instr.trigger, esc)})`;
  }
  for (const v of nextValues(instr, esc)) out += ` ${goQuote(v)}`;
  return out.trim();
}

function dump(text: string): string {
  const df = parseDockerfileSyntax(text, { file: "Dockerfile" });
  return df.instructions.map((i) => `(${dumpInstruction(i, df.escape)})\n`).join("");
}

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(join(DATA, name), "utf8"));
}

/** A field of an object read from the data files, checked to be present. */
function field<T>(obj: unknown, key: string, check: (v: unknown) => v is T): T {
  assert.ok(typeof obj === "object" && obj !== null, `expected an object holding ${key}`);
  const v: unknown = Reflect.get(obj, key);
  assert.ok(check(v), `unexpected ${key} in the conformance data`);
  return v;
}
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

suite("BuildKit parser testfiles: dump equals result", () => {
  const cases = existsSync(join(DATA, "testfiles")) ? readdirSync(join(DATA, "testfiles")).sort() : [];
  let matched = 0;
  let known = 0;
  for (const name of cases) {
    test(name, () => {
      const dir = join(DATA, "testfiles", name);
      const text = readFileSync(join(dir, "Dockerfile"), "utf8");
      const expected = readFileSync(join(dir, "result"), "utf8");
      const difference = KNOWN_DIFFERENCES[name];
      if (difference) {
        assert.throws(
          () => dump(text),
          (err: unknown) => {
            assert.ok(isBerthError(err, "InvalidArgument"));
            assert.match(err.message, difference.error);
            return true;
          },
        );
        known++;
        return;
      }
      assert.equal(dump(text), expected);
      matched++;
    });
  }
  test("every case either matches or is a listed difference", () => {
    assert.ok(cases.length >= 30, `only ${cases.length} test files`);
    assert.equal(matched + known, cases.length);
    assert.equal(known, Object.keys(KNOWN_DIFFERENCES).length);
  });
});

suite("BuildKit parser testfiles-negative: refused", () => {
  const cases = existsSync(join(DATA, "testfiles-negative"))
    ? readdirSync(join(DATA, "testfiles-negative")).sort()
    : [];
  for (const name of cases) {
    test(name, () => {
      const text = readFileSync(join(DATA, "testfiles-negative", name, "Dockerfile"), "utf8");
      assert.throws(
        () => parseDockerfile(text, { file: "Dockerfile" }),
        (err: unknown) => isBerthError(err, "InvalidArgument"),
      );
    });
  }
  test("there are negative cases", () => assert.ok(cases.length >= 4));
});

suite("parser_test.go and json_test.go tables", () => {
  test("line numbers of testfile-line", () => {
    const table = field(
      readJson("parser_tests.json"),
      "lineNumbers",
      (v): v is object => typeof v === "object",
    );
    const root = field(table, "root", isArray);
    const children = field(table, "children", isArray);
    const df = parseDockerfile(readFileSync(join(DATA, "testfile-line", "Dockerfile"), "utf8"), {
      file: "Dockerfile",
    });
    const got = df.instructions.map((i) => [i.startLine, i.endLine]);
    assert.deepEqual(got, children);
    assert.deepEqual([got[0]?.[0], got.at(-1)?.[1]], root);
  });

  test("parseWords", () => {
    const rows = field(readJson("parser_tests.json"), "parseWords", isArray);
    assert.ok(rows.length > 0);
    for (const row of rows) {
      const input = field(row, "input", isString);
      assert.deepEqual(splitWords(input, { escape: "\\" }), field(row, "expect", isStrings), input);
    }
  });

  test("valid JSON arrays of strings are the exec form", () => {
    const rows = field(readJson("parser_tests.json"), "validJSONArraysOfStrings", isArray);
    assert.ok(rows.length > 0);
    for (const row of rows) {
      const json = field(row, "json", isString);
      const df = parseDockerfile(`FROM a\nCMD ${json}`, { file: "Dockerfile" });
      assert.deepEqual(df.instructions[1]?.json, field(row, "expected", isStrings), json);
    }
  });

  test("JSON arrays holding something other than strings are refused", () => {
    const rows = field(readJson("parser_tests.json"), "invalidJSONArraysOfStrings", isStrings);
    assert.ok(rows.length > 0);
    for (const json of rows) {
      assert.throws(
        () => parseDockerfile(`FROM a\nCMD ${json}`, { file: "Dockerfile" }),
        /when using JSON array syntax, arrays must be comprised of strings only/,
        json,
      );
    }
  });
});

suite("parser_heredoc_test.go tables", () => {
  const tables = existsSync(join(DATA, "parser_heredoc_tests.json"))
    ? readJson("parser_heredoc_tests.json")
    : undefined;

  test("heredoc words: valid, invalid and not heredocs", () => {
    const helpers = field(tables, "helpers", (v): v is object => typeof v === "object");
    for (const w of field(helpers, "valid", isStrings)) assert.ok(heredocWord(w), w);
    for (const w of field(helpers, "invalid", isStrings)) assert.throws(() => heredocWord(w), w);
    for (const w of field(helpers, "not", isStrings)) assert.equal(heredocWord(w), undefined, w);
  });

  test("heredoc names found in a line", () => {
    const rows = field(tables, "fromLine", isArray);
    assert.ok(rows.length > 0);
    for (const row of rows) {
      const line = field(row, "line", isString);
      const names = field(row, "heredocNames", isStrings);
      const body = names.map((n) => `\n${n}`).join("");
      const df = parseDockerfileSyntax(`FROM a\n${line}${body}\n`, { file: "Dockerfile" });
      // As the Go test checks: each heredoc found has the expected name at its position.
      const found = df.instructions[1]?.heredocs.map((h) => h.name) ?? [];
      assert.ok(found.length <= names.length, line);
      assert.deepEqual(found, names.slice(0, found.length), line);
    }
  });

  test("heredocs extracted from a Dockerfile (name, expansion, chomping, content)", () => {
    let chompedBodies = 0;
    const extracts = field(tables, "extracts", (v): v is object => typeof v === "object");
    const df = parseDockerfileSyntax(field(extracts, "dockerfile", isString), { file: "Dockerfile" });
    const expected = field(extracts, "expected", isArray);
    // As the Go test: entry i describes instruction i+1 (the FROM line has none listed).
    assert.ok(df.instructions.length > expected.length);
    expected.forEach((want, i) => {
      const got = df.instructions[i + 1]?.heredocs ?? [];
      // berth records no file descriptor (`3<<EOF`): the builder gives every heredoc to RUN as the
      // script or to COPY as a file, where BuildKit does not use it either.
      // A known difference: BuildKit's AST keeps a `<<-` body as written and removes the leading
      // tabs when it dispatches; berth's AST holds the body already chomped (as every use wants
      // it), so the expected body is chomped before comparing.
      const wanted = (want === null ? [] : (want as unknown[])).map((h) => {
        const chomp = field(h, "Chomp", (v): v is boolean => typeof v === "boolean");
        const content = field(h, "Content", isString);
        if (chomp && /^\t/m.test(content)) chompedBodies++;
        return {
          name: field(h, "Name", isString),
          expand: field(h, "Expand", (v): v is boolean => typeof v === "boolean"),
          chomp,
          content: chomp ? content.replace(/^\t+/gm, "") : content,
        };
      });
      assert.deepEqual(
        got.map((h) => ({ name: h.name, expand: h.expand, chomp: h.chomp, content: h.content })),
        wanted,
        df.instructions[i + 1]?.original,
      );
    });
    // The difference above is counted: the table has exactly four `<<-` bodies with tabs.
    assert.equal(chompedBodies, 4);
  });

  test("exec-form RUN lines hold no heredocs", () => {
    const json = field(tables, "json", (v): v is object => typeof v === "object");
    const df = parseDockerfile(field(json, "dockerfile", isString), { file: "Dockerfile" });
    for (const i of field(json, "children", isArray)) {
      assert.ok(typeof i === "number");
      assert.deepEqual(df.instructions[i]?.heredocs, []);
      assert.ok(df.instructions[i]?.json);
    }
  });
});
