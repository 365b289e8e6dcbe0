// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile text holds ${VAR} on purpose
/**
 * The Dockerfile shell lexer against BuildKit's frontend/dockerfile/shell semantics (checked
 * case by case against its envVarTest and wordsTest tables) and the Dockerfile reference's
 * "Environment replacement" rules.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { assertInvalid, seededRandom } from "../../base/test-support.js";
import {
  expandHeredoc,
  expandWord,
  expandWords,
  parseKeyValues,
  rawWords,
  splitWhitespace,
  splitWords,
} from "./expand.js";

const BS = { escape: "\\" } as const;
const BT = { escape: "`" } as const;
const ENV: ReadonlyMap<string, string> = new Map([
  ["A", "1"],
  ["EMPTY", ""],
  ["SP", "a b"],
  ["LEAD", "  x y "],
  ["PATH", "/usr/bin:/bin"],
  ["FILE", "archive.tar.gz"],
  ["KOREAN", "한국어"],
]);

/** [input, expandWord result] */
const WORD: ReadonlyArray<readonly [string, string]> = [
  // plain names
  ["$A", "1"],
  ["${A}", "1"],
  ["x$A.y", "x1.y"],
  ["x${A}y", "x1y"],
  ["$Ax", ""], // the name is Ax
  ["$UNSET", ""],
  ["${UNSET}", ""],
  ["$KOREAN", "한국어"],
  // a $ that starts no name stays
  ["$", "$"],
  ["a$ b", "a$ b"],
  ["$/x", "$/x"],
  ['"$"', "$"],
  // positional and special parameters are looked up like names: normally empty
  ["$1x", "x"],
  ["$$", ""],
  ["${#}", ""],
  // :- and -
  ["${UNSET:-d}", "d"],
  ["${EMPTY:-d}", "d"],
  ["${A:-d}", "1"],
  ["${UNSET-d}", "d"],
  ["${EMPTY-d}", ""],
  ["${A-d}", "1"],
  // :+ and +
  ["${UNSET:+alt}", ""],
  ["${EMPTY:+alt}", ""],
  ["${A:+alt}", "alt"],
  ["${UNSET+alt}", ""],
  ["${EMPTY+alt}", "alt"],
  ["${A+alt}", "alt"],
  // :? and ? when satisfied
  ["${A:?msg}", "1"],
  ["${EMPTY?msg}", ""],
  // nested words: quotes, escapes and expansions inside the word
  ["${UNSET:-$A}", "1"],
  ["${UNSET:-${EMPTY:-deep}}", "deep"],
  ['${UNSET:-"a b"}', "a b"],
  ["${UNSET:-'$A'}", "$A"],
  ["${UNSET:-\\}}", "}"],
  ['${UNSET:-"}"}', "}"],
  ["${UNSET:-a b}", "a b"],
  // pattern trimming and replacement
  ["${FILE#*.}", "tar.gz"],
  ["${FILE##*.}", "gz"],
  ["${FILE%.*}", "archive.tar"],
  ["${FILE%%.*}", "archive"],
  ["${FILE#nomatch}", "archive.tar.gz"],
  ["${PATH/bin/sbin}", "/usr/sbin:/bin"],
  ["${PATH//bin/sbin}", "/usr/sbin:/sbin"],
  ["${PATH/\\/usr/}", "/bin:/bin"],
  // single quotes: literal
  ["'$A'", "$A"],
  ["'a\\b'", "a\\b"],
  ["'\"'", '"'],
  // double quotes: $ expands; \ escapes only " $ and itself
  ['"$A"', "1"],
  ['"\\$A"', "$A"],
  ['"say \\"hi\\""', 'say "hi"'],
  ['"a\\\\b"', "a\\b"],
  ['"C:\\dir\\n"', "C:\\dir\\n"],
  ['"it\'s"', "it's"],
  // outside quotes the escape makes any next character literal; a trailing one is dropped
  ["\\$A", "$A"],
  ["\\${A}", "${A}"],
  ["a\\ b", "a b"],
  ["\\'x\\'", "'x'"],
  ['\\"x', '"x'],
  ["\\\\", "\\"],
  ["abc\\", "abc"],
  // whitespace is kept as written in one word
  ["  a  b ", "  a  b "],
  ["$SP", "a b"],
  ["$LEAD", "  x y "],
  ["", ""],
  // heredoc markers keep their blanks (as Docker's lexer does)
  ["<<  EOF", "<<  EOF"],
];

describe("expandWord (Docker's ProcessWord)", () => {
  for (const [input, expected] of WORD) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(expandWord(input, ENV, BS), expected);
    });
  }
});

/** [input, expandWords result] */
const WORDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["  a  b\tc\n d ", ["a", "b", "c", "d"]],
  ["", []],
  ["   ", []],
  [`"a b" 'c d'`, ["a b", "c d"]],
  [`x"a b"y'c'`, ["xa byc"]],
  [`"it's" 'say "hi"'`, ["it's", 'say "hi"']],
  ["a\\ b c", ["a b", "c"]],
  // Docker's lexer never yields an empty word, even from quotes
  [`"" ''`, []],
  [`a "" b`, ["a", "b"]],
  [`$EMPTY`, []],
  // unquoted expansions split, quoted ones do not
  ["$SP", ["a", "b"]],
  ['"$SP"', ["a b"]],
  ["x${SP}y", ["xa", "by"]],
  ["x$LEAD", ["x", "x", "y"]],
  ['x"$LEAD"', ["x  x y "]],
  ["${UNSET:-d e}", ["d", "e"]],
  ['${UNSET:-"d e"}', ["d", "e"]],
  ["\\$SP", ["$SP"]],
  ["80/tcp ${A}000", ["80/tcp", "1000"]],
];

describe("expandWords (Docker's ProcessWords)", () => {
  for (const [input, expected] of WORDS) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(expandWords(input, ENV, BS), expected);
    });
  }
});

describe("errors", () => {
  test("unterminated quotes", () => {
    assertInvalid(
      () => expandWords(`"abc`, ENV, BS),
      `failed to process "\\"abc": unexpected end of statement while looking for matching double-quote`,
    );
    assertInvalid(
      () => expandWord(`a 'bc`, ENV, BS),
      `failed to process "a 'bc": unexpected end of statement while looking for matching single-quote`,
    );
  });

  test("${VAR:?msg} and ${VAR?msg}", () => {
    assertInvalid(
      () => expandWord("${UNSET:?}", ENV, BS),
      `failed to process "${"${UNSET:?}"}": UNSET: is not allowed to be unset`,
    );
    assertInvalid(
      () => expandWord("${EMPTY:?}", ENV, BS),
      `failed to process "${"${EMPTY:?}"}": EMPTY: is not allowed to be empty`,
    );
    assertInvalid(
      () => expandWord("${UNSET:?set it $A}", ENV, BS),
      `failed to process "${"${UNSET:?set it $A}"}": UNSET: set it 1`,
    );
    assertInvalid(
      () => expandWord("${UNSET?}", ENV, BS),
      `failed to process "${"${UNSET?}"}": UNSET: is not allowed to be unset`,
    );
  });

  test("bad substitutions", () => {
    assertInvalid(() => expandWord("${", ENV, BS), `failed to process "\${": syntax error: missing '}'`);
    assertInvalid(() => expandWord("${A", ENV, BS), `failed to process "\${A": syntax error: missing '}'`);
    assertInvalid(
      () => expandWord("${A:-x", ENV, BS),
      `failed to process "\${A:-x": syntax error: missing '}'`,
    );
    assertInvalid(
      () => expandWord("${}", ENV, BS),
      `failed to process "\${}": syntax error: bad substitution`,
    );
    assertInvalid(
      () => expandWord("${:-x}", ENV, BS),
      `failed to process "\${:-x}": syntax error: bad substitution`,
    );
    assertInvalid(
      () => expandWord("${A!}", ENV, BS),
      `failed to process "\${A!}": unsupported modifier (!) in substitution`,
    );
    assertInvalid(
      () => expandWord("${A:x}", ENV, BS),
      `failed to process "\${A:x}": unsupported modifier (:x) in substitution`,
    );
    assertInvalid(
      () => expandWord("${A:#x}", ENV, BS),
      `failed to process "\${A:#x}": unsupported modifier (:#) in substitution`,
    );
    assertInvalid(
      () => expandWord("${A/x", ENV, BS),
      `failed to process "\${A/x": syntax error: missing '/' in \${}`,
    );
  });
});

describe("the backtick escape (# escape=`)", () => {
  test("the backtick escapes; backslashes are ordinary", () => {
    assert.equal(expandWord("C:\\dir\\$A", ENV, BT), "C:\\dir\\1");
    assert.equal(expandWord("`$A", ENV, BT), "$A");
    assert.equal(expandWord('"a`"b"', ENV, BT), 'a"b');
    assert.equal(expandWord('"C:\\x"', ENV, BT), "C:\\x");
    assert.deepEqual(expandWords("a` b c", ENV, BT), ["a b", "c"]);
  });
});

describe("parseKeyValues", () => {
  test("ENV key=value pairs, quoted values, expansion from the environment before the instruction", () => {
    assert.deepEqual(
      parseKeyValues(`a=1 b="x y" c=$A d=a\\ b e='$A' f=`, ENV, { ...BS, instruction: "ENV" }),
      [
        ["a", "1"],
        ["b", "x y"],
        ["c", "1"],
        ["d", "a b"],
        ["e", "$A"],
        ["f", ""],
      ],
    );
    assert.deepEqual(parseKeyValues("A=2 B=$A", ENV, { ...BS, instruction: "ENV" }), [
      ["A", "2"],
      ["B", "1"],
    ]);
  });

  test("the legacy `ENV name value…` form: the value is the rest of the text", () => {
    assert.deepEqual(parseKeyValues("name  a  b $A", ENV, { ...BS, instruction: "ENV" }), [
      ["name", "a  b 1"],
    ]);
    assert.deepEqual(parseKeyValues(`name "quoted value"`, ENV, { ...BS, instruction: "LABEL" }), [
      ["name", "quoted value"],
    ]);
  });

  test("LABEL keys may be quoted and are expanded too", () => {
    assert.deepEqual(parseKeyValues(`"my key"=v x.$A=y`, ENV, { ...BS, instruction: "LABEL" }), [
      ["my key", "v"],
      ["x.1", "y"],
    ]);
  });

  test("ARG: names without a default have an undefined value; defaults expand", () => {
    assert.deepEqual(parseKeyValues("a b=$A c= d=${UNSET:-x}", ENV, { ...BS, instruction: "ARG" }), [
      ["a", undefined],
      ["b", "1"],
      ["c", ""],
      ["d", "x"],
    ]);
  });

  test("Docker's errors", () => {
    assertInvalid(
      () => parseKeyValues("", ENV, { ...BS, instruction: "ENV" }),
      "ENV requires at least one argument",
    );
    assertInvalid(
      () => parseKeyValues("x", ENV, { ...BS, instruction: "ENV" }),
      "ENV must have two arguments",
    );
    assertInvalid(
      () => parseKeyValues("a=1 b", ENV, { ...BS, instruction: "LABEL" }),
      `Syntax error - can't find = in "b". Must be of the form: name=value`,
    );
    assertInvalid(
      () => parseKeyValues("=1", ENV, { ...BS, instruction: "LABEL" }),
      "LABEL names can not be blank",
    );
    assertInvalid(
      () => parseKeyValues("a =1", ENV, { ...BS, instruction: "ARG" }),
      "ARG names can not be blank",
    );
  });
});

describe("splitting without expansion", () => {
  test("splitWords keeps quotes and escapes (Docker's parseWords)", () => {
    assert.deepEqual(splitWords(`a="b c" d\\ e 'f g' "" h`, BS), [`a="b c"`, "d\\ e", `'f g'`, `""`, "h"]);
    assert.deepEqual(splitWords(`'a\\' b`, BS), [`'a\\'`, "b"]);
    assert.deepEqual(splitWords("a\\", BS), ["a"]);
  });

  test("splitWhitespace splits on blanks only, quotes or not (FROM, EXPOSE, COPY, ADD, VOLUME)", () => {
    assert.deepEqual(splitWhitespace(` "a b"  c\t/d `), [`"a`, `b"`, "c", "/d"]);
    assert.deepEqual(splitWhitespace("  "), []);
  });

  test("rawWords finds heredoc markers with their quotes", () => {
    assert.deepEqual(rawWords(`RUN <<"EOF" cat <<-'X' $Y "<<Z"`), [
      "RUN",
      `<<"EOF"`,
      "cat",
      "<<-'X'",
      "$Y",
      `"<<Z"`,
    ]);
    assert.deepEqual(rawWords(`RUN "unterminated`), []);
  });
});

describe("expandHeredoc (COPY/ADD bodies with an unquoted delimiter)", () => {
  test("variables expand, quotes are ordinary, a backslash escapes the next character", () => {
    assert.equal(expandHeredoc(`a "$A" '$A' \\$A\n\\tb\n`, ENV), `a "1" '1' $A\ntb\n`);
    assert.equal(expandHeredoc("${UNSET:-x}\n", ENV), "x\n");
  });
});

describe("bounded evaluation", () => {
  test("nesting deeper than the bound is one InvalidArgument, never a stack overflow", () => {
    for (const depth of [65, 1000, 100_000]) {
      const text = `${"${A:-".repeat(depth)}x${"}".repeat(depth)}`;
      assert.throws(
        () => expandWord(text, ENV, BS),
        (err: unknown) =>
          isBerthError(err, "InvalidArgument") && /nested more than 64 levels/.test(err.message),
      );
    }
    // The word itself is the first level.
    assert.equal(expandWord(`${"${U:-".repeat(63)}x${"}".repeat(63)}`, ENV, BS), "x");
  });

  test("an expansion whose output outgrows the bound is refused", () => {
    const big = new Map([["B", "x".repeat(1 << 20)]]);
    assert.equal(expandWord("$B$B$B$B", big, BS).length, 4 << 20);
    assert.throws(() => expandWord("$B$B$B$B$B", big, BS), /longer than the limit/);
    assert.throws(() => expandWord('"$B$B$B$B$B"', big, BS), /longer than the limit/);
    const many = new Map([["C", "c".repeat(100_000)]]);
    assert.throws(() => expandWord("${C//c/$C}", many, BS), /longer than the limit/);
  });

  test("property: random nestings stay within the bounds or fail cleanly", () => {
    const ops = [":-", "-", ":+", "+", "#", "##", "%", "%%", "/", "//"];
    // Nodes are drawn from a budget, so the text stays small while its nesting goes deep.
    const gen = (r: () => number, depth: number, budget: { n: number }): string => {
      if (depth === 0 || budget.n <= 0 || r() < 0.05) {
        const leaves = ["$A", "${SP}", "$U", "lit", '"q $A"', "'s'", "*", "?", "$KOREAN"];
        return leaves[Math.floor(r() * leaves.length)]!;
      }
      budget.n--;
      const op = ops[Math.floor(r() * ops.length)]!;
      const name = ["A", "U", "EMPTY", "SP", "FILE"][Math.floor(r() * 5)]!;
      const inner = gen(r, depth - 1, budget);
      if (op === "/" || op === "//")
        return `\${${name}${op}${inner}/${r() < 0.2 ? gen(r, depth - 1, budget) : "r"}}`;
      return `\${${name}${op}${inner}}${r() < 0.1 ? gen(r, depth - 1, budget) : ""}`;
    };
    let ok = 0;
    let refused = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const r = seededRandom(seed);
      const text = gen(r, 1 + Math.floor(r() * 120), { n: 300 });
      try {
        const out = expandWord(text, ENV, BS);
        assert.ok(out.length <= 4 * 1048 * 1048, `seed ${seed}`);
        ok++;
      } catch (err) {
        assert.ok(isBerthError(err, "InvalidArgument"), `seed ${seed}: ${String(err)}`);
        assert.doesNotMatch(err.message, /\n/, `seed ${seed}: one line`);
        refused++;
      }
    }
    assert.ok(ok > 100 && refused > 100, `${ok} expanded, ${refused} refused`);
  });

  /** The regular-expression matcher this module used before (fine for tiny inputs), as a reference. */
  function reference(pattern: string, value: string, op: string, repl: string): string {
    let src = "";
    for (const ch of Array.from(pattern)) {
      if (ch === "*") src += op === "#" || op === "%" ? ".*?" : ".*";
      else if (ch === "?") src += ".";
      else src += ch;
    }
    const rev = (s: string) => Array.from(s).reverse().join("");
    switch (op) {
      case "#":
      case "##": {
        const m = new RegExp(`^${src}`, "u").exec(value);
        return m ? value.slice(m[0].length) : value;
      }
      case "%":
      case "%%": {
        let rsrc = "";
        for (const ch of Array.from(pattern).reverse()) {
          if (ch === "*") rsrc += op === "%" ? ".*?" : ".*";
          else if (ch === "?") rsrc += ".";
          else rsrc += ch;
        }
        const m = new RegExp(`^${rsrc}`, "u").exec(rev(value));
        return m ? rev(rev(value).slice(m[0].length)) : value;
      }
      case "/":
        return value.replace(new RegExp(src.replace(/\.\*\?/g, ".*"), "u"), () => repl);
      default:
        return value.replace(new RegExp(src.replace(/\.\*\?/g, ".*"), "gu"), () => repl);
    }
  }

  test("property: pattern matching agrees with a regular expression on small inputs", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const r = seededRandom(100_000 + seed);
      const alpha = "ab*?";
      const pattern = Array.from({ length: 1 + Math.floor(r() * 4) }, () => alpha[Math.floor(r() * 4)]).join(
        "",
      );
      const value = Array.from({ length: Math.floor(r() * 8) }, () => "abc"[Math.floor(r() * 3)]).join("");
      const op = ["#", "##", "%", "%%", "/", "//"][Math.floor(r() * 6)]!;
      const env = new Map([["V", value]]);
      const text = op.startsWith("/") ? `\${V${op}${pattern}/X}` : `\${V${op}${pattern}}`;
      assert.equal(
        expandWord(text, env, BS),
        reference(pattern, value, op, "X"),
        `seed ${100_000 + seed}: ${text} on ${value}`,
      );
    }
  });

  test("patterns with many stars run in linear time (no backtracking blow-up)", () => {
    const env = new Map([["X", "a".repeat(20_000)]]);
    assert.equal(expandWord("${X##*a*a*a*a*a*a*a*a*b}", env, BS), "a".repeat(20_000));
    assert.equal(expandWord("${X//*a*a*a*a*b/y}", env, BS), "a".repeat(20_000));
    assert.equal(expandWord("${X%%a*a*a*a*a}", env, BS), "");
  });
});
