/**
 * parseFlags against spf13/pflag's semantics as Docker's CLI uses them. Error messages were
 * compared with the real `docker` client (28.2.2), e.g. `docker images -f` →
 * `flag needs an argument: 'f' in -f`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import {
  type FlagSpec,
  Flags,
  formatFlagHelp,
  parseBool,
  parseFilterFlags,
  parseFlags,
  UsageError,
} from "./flags.js";

/** The flags of `docker images`, plus an int and a string with a short name for coverage. */
const SPECS: readonly FlagSpec[] = [
  { name: "all", short: "a", type: "bool", description: "Show all images" },
  { name: "quiet", short: "q", type: "bool", description: "Only show image IDs" },
  { name: "digests", type: "bool", description: "Show digests" },
  { name: "filter", short: "f", type: "list", valueName: "filter", description: "Filter output" },
  { name: "format", type: "string", description: "Format output" },
  { name: "name", short: "n", type: "string", description: "A name" },
  { name: "tail", type: "int", description: "Number of lines" },
  { name: "count", short: "c", type: "int", description: "A count" },
];

function parse(argv: string[], opts?: { interspersed?: boolean }) {
  const { flags, args } = parseFlags(argv, SPECS, opts);
  return { flags: new Flags(flags), raw: flags, args };
}

function usageError(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    assert.ok(isBerthError(err, "InvalidArgument"));
    assert.equal(err.message, message);
    return true;
  });
}

describe("parseFlags: forms of a flag with a value", () => {
  test("--name value and --name=value", () => {
    assert.equal(parse(["--name", "web"]).flags.string("name"), "web");
    assert.equal(parse(["--name=web"]).flags.string("name"), "web");
  });

  test("--name= sets an empty string; a value may itself contain '=' or start with '-'", () => {
    assert.equal(parse(["--name="]).flags.string("name"), "");
    assert.equal(parse(["--format={{.ID}}=x"]).flags.string("format"), "{{.ID}}=x");
    assert.equal(parse(["--name", "-a"]).flags.string("name"), "-a");
    assert.equal(parse(["--name", "--"]).flags.string("name"), "--");
  });

  test("-n value, -nvalue and -n=value", () => {
    assert.equal(parse(["-n", "web"]).flags.string("name"), "web");
    assert.equal(parse(["-nweb"]).flags.string("name"), "web");
    assert.equal(parse(["-n=web"]).flags.string("name"), "web");
  });

  test("a value flag at the end of a group of short booleans takes the rest or the next argument", () => {
    const a = parse(["-aqnweb"]);
    assert.equal(a.flags.bool("all"), true);
    assert.equal(a.flags.bool("quiet"), true);
    assert.equal(a.flags.string("name"), "web");
    const b = parse(["-aqn", "web", "img"]);
    assert.equal(b.flags.string("name"), "web");
    assert.deepEqual(b.args, ["img"]);
  });

  test("a later occurrence of a string flag replaces the earlier one", () => {
    assert.equal(parse(["--name", "a", "-n", "b"]).flags.string("name"), "b");
  });
});

describe("parseFlags: booleans", () => {
  test("-aq sets both; absent booleans are absent, not false", () => {
    const { flags, raw } = parse(["-aq"]);
    assert.equal(flags.bool("all"), true);
    assert.equal(flags.bool("quiet"), true);
    assert.equal(raw.has("digests"), false);
    assert.equal(flags.has("digests"), false);
    assert.equal(flags.bool("digests"), false);
    assert.equal(flags.bool("digests", true), true, "the fallback applies when unset");
  });

  test("-a=false, --all=false, --all=0 and --all=F set false; --all=T and -a=1 set true", () => {
    assert.equal(parse(["-a=false"]).raw.get("all"), false);
    assert.equal(parse(["--all=false"]).raw.get("all"), false);
    assert.equal(parse(["--all=0"]).raw.get("all"), false);
    assert.equal(parse(["--all=F"]).raw.get("all"), false);
    assert.equal(parse(["--all=T"]).raw.get("all"), true);
    assert.equal(parse(["-a=1"]).raw.get("all"), true);
  });

  test("-qa=false: the '=' applies to the letter before it", () => {
    const { raw } = parse(["-qa=false"]);
    assert.equal(raw.get("quiet"), true);
    assert.equal(raw.get("all"), false);
  });

  test("a boolean never consumes the next argument", () => {
    const { flags, args } = parse(["--all", "false"]);
    assert.equal(flags.bool("all"), true);
    assert.deepEqual(args, ["false"]);
  });

  test("invalid bool values, with pflag's wording", () => {
    usageError(
      () => parse(["-a=maybe"]),
      `invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool: parsing "maybe": invalid syntax`,
    );
    usageError(
      () => parse(["--all=yes"]),
      `invalid argument "yes" for "-a, --all" flag: strconv.ParseBool: parsing "yes": invalid syntax`,
    );
    usageError(
      () => parse(["--digests="]),
      `invalid argument "" for "--digests" flag: strconv.ParseBool: parsing "": invalid syntax`,
    );
  });
});

describe("parseBool", () => {
  test("accepts exactly Go's strconv.ParseBool spellings", () => {
    for (const v of ["1", "t", "T", "true", "TRUE", "True"]) assert.equal(parseBool(v, "--x"), true, v);
    for (const v of ["0", "f", "F", "false", "FALSE", "False"]) assert.equal(parseBool(v, "--x"), false, v);
    for (const v of ["yes", "no", "tRuE", "on", " true", "2", ""]) {
      assert.throws(() => parseBool(v, "--x"), UsageError, v);
    }
  });

  test("names the flag label it was given", () => {
    usageError(
      () => parseBool("nope", "-d, --detach"),
      `invalid argument "nope" for "-d, --detach" flag: strconv.ParseBool: parsing "nope": invalid syntax`,
    );
  });
});

describe("parseFlags: ints", () => {
  test("--tail 10, --tail=-3, -c7, -c=+4", () => {
    assert.equal(parse(["--tail", "10"]).flags.int("tail"), 10);
    assert.equal(parse(["--tail=-3"]).flags.int("tail"), -3);
    assert.equal(parse(["-c7"]).flags.int("count"), 7);
    assert.equal(parse(["-c=+4"]).flags.int("count"), 4);
    assert.equal(parse([]).flags.int("tail"), undefined);
  });

  test("invalid ints, with pflag's wording", () => {
    usageError(
      () => parse(["--tail", "abc"]),
      `invalid argument "abc" for "--tail" flag: strconv.ParseInt: parsing "abc": invalid syntax`,
    );
    usageError(
      () => parse(["-c", "1.5"]),
      `invalid argument "1.5" for "-c, --count" flag: strconv.ParseInt: parsing "1.5": invalid syntax`,
    );
    usageError(
      () => parse(["--tail="]),
      `invalid argument "" for "--tail" flag: strconv.ParseInt: parsing "": invalid syntax`,
    );
  });

  test("an int beyond int64 is refused as out of range", {}, () => {
    usageError(
      () => parse(["--tail", "99999999999999999999"]),
      `invalid argument "99999999999999999999" for "--tail" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range`,
    );
  });

  test("ints are parsed with base 0 as pflag does (0x10 is 16, 010 is 8, 1_0 is 10)", {}, () => {
    assert.equal(parse(["--tail", "0x10"]).flags.int("tail"), 16);
    assert.equal(parse(["--tail", "010"]).flags.int("tail"), 8);
    assert.equal(parse(["--tail", "1_0"]).flags.int("tail"), 10);
  });
});

describe("parseFlags: lists", () => {
  test("repeated list flags accumulate in order, in every form", () => {
    const { flags } = parse([
      "-f",
      "dangling=true",
      "--filter=label=a",
      "-freference=busy*",
      "--filter",
      "x=1",
    ]);
    assert.deepEqual(flags.list("filter"), ["dangling=true", "label=a", "reference=busy*", "x=1"]);
    assert.deepEqual(parse([]).flags.list("filter"), []);
  });
});

describe("parseFlags: positional arguments and --", () => {
  test("interspersed (the default): flags after positionals are still flags", () => {
    const { flags, args } = parse(["busybox", "-a", "alpine", "--name", "x"]);
    assert.deepEqual(args, ["busybox", "alpine"]);
    assert.equal(flags.bool("all"), true);
    assert.equal(flags.string("name"), "x");
  });

  test("-- ends flags; everything after it is positional, including another --", () => {
    const { flags, args } = parse(["-a", "--", "-q", "--name", "x", "--"]);
    assert.equal(flags.bool("all"), true);
    assert.equal(flags.has("quiet"), false);
    assert.deepEqual(args, ["-q", "--name", "x", "--"]);
  });

  test("a lone '-' is a positional argument (stdin), not a flag", () => {
    assert.deepEqual(parse(["-", "-a"]).args, ["-"]);
  });

  test("non-interspersed: the first positional ends flags and the rest pass through untouched", () => {
    const { flags, args } = parse(["-a", "--name", "x", "busybox", "ls", "-la", "--bogus", "--"], {
      interspersed: false,
    });
    assert.equal(flags.bool("all"), true);
    assert.equal(flags.string("name"), "x");
    assert.deepEqual(args, ["busybox", "ls", "-la", "--bogus", "--"]);
  });

  test("non-interspersed: -- before the first positional is dropped, the rest kept", () => {
    const { flags, args } = parse(["-a", "--", "-q", "cmd"], { interspersed: false });
    assert.equal(flags.bool("all"), true);
    assert.deepEqual(args, ["-q", "cmd"]);
  });

  test("no arguments at all", () => {
    const { raw, args } = parse([]);
    assert.equal(raw.size, 0);
    assert.deepEqual(args, []);
  });
});

describe("parseFlags: errors", () => {
  test("unknown long flag, with or without a value", () => {
    usageError(() => parse(["--bogus"]), "unknown flag: --bogus");
    usageError(() => parse(["--bogus=1"]), "unknown flag: --bogus");
    usageError(() => parse(["img", "--bogus"]), "unknown flag: --bogus");
  });

  test("unknown shorthand flag alone or first in a group", () => {
    usageError(() => parse(["-x"]), "unknown shorthand flag: 'x' in -x");
    usageError(() => parse(["-xaq"]), "unknown shorthand flag: 'x' in -xaq");
  });

  test("unknown shorthand later in a group names the rest of the group from that letter", {}, () => {
    usageError(() => parse(["-aqx"]), "unknown shorthand flag: 'x' in -x");
    usageError(() => parse(["-axq"]), "unknown shorthand flag: 'x' in -xq");
  });

  test("a value flag at the end of the arguments", () => {
    usageError(() => parse(["--format"]), "flag needs an argument: --format");
    usageError(() => parse(["--filter"]), "flag needs an argument: --filter");
    usageError(() => parse(["-f"]), "flag needs an argument: 'f' in -f");
    usageError(() => parse(["-aqf"]), "flag needs an argument: 'f' in -f");
  });

  test("unknown flags are found before later ones are checked: the first error wins", () => {
    usageError(() => parse(["--bogus", "-x"]), "unknown flag: --bogus");
  });
});

describe("Flags accessors", () => {
  test("each accessor only returns values of its own type", () => {
    const f = new Flags(
      new Map<string, boolean | string | string[] | number>([
        ["b", true],
        ["s", "x"],
        ["l", ["1", "2"]],
        ["i", 3],
      ]),
    );
    assert.equal(f.bool("s"), false);
    assert.equal(f.string("b"), undefined);
    assert.deepEqual(f.list("s"), []);
    assert.equal(f.int("s"), undefined);
    assert.equal(f.bool("b"), true);
    assert.equal(f.string("s"), "x");
    assert.deepEqual(f.list("l"), ["1", "2"]);
    assert.equal(f.int("i"), 3);
    assert.equal(f.has("i"), true);
    assert.equal(f.has("nope"), false);
  });
});

describe("parseFilterFlags", () => {
  test("key=value pairs, repeated keys accumulate, keys lower-cased and both sides trimmed", () => {
    assert.deepEqual(parseFilterFlags(["dangling=true", " Label = a=b ", "label=c", "reference=busy*"]), {
      dangling: ["true"],
      label: ["a=b", "c"],
      reference: ["busy*"],
    });
  });

  test("label!=x gives the key 'label!'", () => {
    assert.deepEqual(parseFilterFlags(["label!=x"]), { "label!": ["x"] });
  });

  test("a value without '=' is refused with Docker's wording", () => {
    assert.throws(
      () => parseFilterFlags(["dangling"]),
      (err: unknown) =>
        err instanceof UsageError && err.message === "bad format of filter (expected name=value)",
    );
  });

  test("an empty --filter value is ignored", {}, () => {
    assert.deepEqual(parseFilterFlags([""]), {});
  });
});

describe("formatFlagHelp", () => {
  test("aligns descriptions like Docker's help, with value names, defaults and no hidden flags", () => {
    const help = formatFlagHelp([
      { name: "all", short: "a", type: "bool", description: "Show all images" },
      { name: "digests", type: "bool", description: "Show digests" },
      { name: "filter", short: "f", type: "list", valueName: "filter", description: "Filter output" },
      { name: "format", type: "string", description: "Format output" },
      { name: "env", short: "e", type: "list", description: "Set environment variables" },
      { name: "tail", type: "int", defaultText: '"all"', description: "Lines to show" },
      { name: "secret", type: "bool", hidden: true, description: "Not shown" },
    ]);
    assert.equal(
      help,
      [
        "  -a, --all             Show all images",
        "      --digests         Show digests",
        "  -f, --filter filter   Filter output",
        "      --format string   Format output",
        "  -e, --env list        Set environment variables",
        '      --tail int        Lines to show (default "all")',
      ].join("\n"),
    );
  });

  test("no flags gives an empty string", () => {
    assert.equal(formatFlagHelp([]), "");
    assert.equal(formatFlagHelp([{ name: "h", type: "bool", hidden: true, description: "x" }]), "");
  });
});
