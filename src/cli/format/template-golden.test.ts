/**
 * Golden cases for the template engine: every expected string was produced by Go's own
 * text/template (Go 1.19) with the Docker CLI's functions, on the same data decoded from JSON.
 * "OK out" is a success, "EXEC message || partial output" an execution error, "PARSE message"
 * a parse error (without Docker's "template parsing error: " prefix).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTemplate, runTemplate } from "./template.js";

interface GoldenCase {
  t: string;
  d: unknown;
  want: string;
  miss?: "default" | "invalid" | "zero" | "error";
}

const CASES: GoldenCase[] = [
  { t: "{{.A}}", d: { A: 1 }, want: "OK 1" },
  { t: "{{.Foo}}", d: { A: 1 }, want: "OK <no value>" },
  {
    t: "{{.Foo}}",
    d: { A: 1 },
    want: 'EXEC template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo" || ',
    miss: "error",
  },
  {
    t: "{{.A.B}}",
    d: { A: null },
    want: 'EXEC template: :1:4: executing "" at <.A.B>: nil pointer evaluating interface {}.B || ',
  },
  { t: "{{.A.B.C}}", d: {}, want: "OK <no value>" },
  { t: "{{.A}}", d: { A: null }, want: "OK <no value>" },
  {
    t: "{{.A.B}}",
    d: { A: "str" },
    want: 'EXEC template: :1:4: executing "" at <.A.B>: can\'t evaluate field B in type interface {} || ',
  },
  {
    t: "{{.A.B}}",
    d: { A: [1] },
    want: 'EXEC template: :1:4: executing "" at <.A.B>: can\'t evaluate field B in type interface {} || ',
  },
  {
    t: "{{.}}",
    d: { m: { x: 1 }, a: [1, "x", null], f: 1.5, big: 1000000, t: true, s: "q" },
    want: "OK map[a:[1 x <nil>] big:1000000 f:1.5 m:map[x:1] s:q t:true]",
  },
  {
    t: '{{printf "%v %d %s %q %x %5.2f|%-6s|%06d|%+d|%x|%X|%o|%b|%c|%U|%e|%g|%t" . 42 "str" "q\\"" 255 3.14159 "ab" -42 5 "hi" "hi" 8 5 65 65 1234.5678 0.000012345 true}}',
    d: [1, 2],
    want: 'OK [1 2] 42 str "q\\"" ff  3.14|ab    |-00042|+5|6869|6869|10|101|A|U+0041|1.234568e+03|1.2345e-05|true',
  },
  {
    t: '{{printf "%d %s" "x" 5}} {{printf "%d"}} {{printf "%d" 1 2 "x"}} {{printf "%z" 1}} {{printf "100%"}} {{printf "%s" nil}} {{printf "%v" .Miss}} {{printf "%.2s|%5.1q|%-8.3f|%8.3e" "abcdef" "xyz" 2.71828 123456.789}}',
    d: {},
    want: 'OK %!d(string=x) %!s(int=5) %!d(MISSING) 1%!(EXTRA int=2, string=x) %!z(int=1) 100%!(NOVERB) %!s(<nil>) <nil> ab|  "x"|2.718   |1.235e+05',
  },
  { t: '{{print 1 2 "a" "b" 3 .M nil}} {{println 1 "a"}}', d: {}, want: "OK 1 2ab3 <nil> <nil> 1 a\n" },
  { t: "{{range $i, $v := .}}{{$i}}={{$v}};{{end}}", d: { b: 2, a: 1, C: 3 }, want: "OK C=3;a=1;b=2;" },
  { t: "{{range $i, $v := .}}{{$i}}={{$v}};{{else}}empty{{end}}", d: [], want: "OK empty" },
  { t: "{{range .}}{{.}}{{else}}empty{{end}}", d: {}, want: "OK empty" },
  { t: "{{range .X}}{{.}}{{else}}none{{end}}", d: {}, want: "OK none" },
  {
    t: "{{range .}}{{if eq . 3}}{{break}}{{end}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}",
    d: [1, 2, 3, 4],
    want: "OK 2",
  },
  { t: "{{range $v := .}}{{$v}}{{end}}", d: ["a", "b"], want: "OK ab" },
  {
    t: "{{range .}}x{{end}}",
    d: "str",
    want: 'EXEC template: :1:8: executing "" at <.>: range can\'t iterate over str || ',
  },
  {
    t: "{{range .}}x{{end}}",
    d: true,
    want: 'EXEC template: :1:8: executing "" at <.>: range can\'t iterate over true || ',
  },
  { t: "{{if .A}}a{{else if .B}}b{{else}}c{{end}}", d: { B: 1 }, want: "OK b" },
  {
    t: '{{if and .A .B}}y{{else}}n{{end}}|{{or .A .B "d"}}|{{and 1 0 2}}|{{or 0 ""}}|{{not .A}}|{{and}}',
    d: { A: 1, B: 0 },
    want: 'EXEC template: :1:90: executing "" at <and>: wrong number of args for and: want at least 1 got 0 || n|1|0||false|',
  },
  {
    t: "{{with .A}}{{.}}{{else}}none{{end}}|{{with .B}}{{.}}{{else}}none{{end}}",
    d: { A: "x", B: "" },
    want: "OK x|none",
  },
  { t: "{{with $x := .A}}{{$x}}{{.}}{{end}}", d: { A: "x" }, want: "OK xx" },
  { t: "{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}", d: null, want: "OK 2" },
  { t: "{{$y}}", d: null, want: 'PARSE template: :1: undefined variable "$y"' },
  { t: "{{$}}", d: "root", want: "OK root" },
  {
    t: '{{define "x"}}[{{.}}]{{end}}{{template "x" .A}}{{template "x"}}',
    d: { A: 5 },
    want: "OK [5][<no value>]",
  },
  {
    t: '{{template "nope"}}',
    d: null,
    want: 'EXEC template: :1:11: executing "" at <{{template "nope"}}>: template "nope" not defined || ',
  },
  { t: '{{block "b" .}}<{{.}}>{{end}}', d: "v", want: "OK <v>" },
  {
    t: '{{define "a"}}x{{end}}{{define "a"}}y{{end}}',
    d: null,
    want: 'PARSE template: :1: template: multiple definition of template "a"',
  },
  {
    t: "{{index .L 5}}",
    d: { L: [1] },
    want: 'EXEC template: :1:2: executing "" at <index .L 5>: error calling index: index out of range: 5 || ',
  },
  {
    t: "{{index .L 1}}",
    d: { L: [1] },
    want: 'EXEC template: :1:2: executing "" at <index .L 1>: error calling index: reflect: slice index out of range || ',
  },
  {
    t: '{{index .L "a"}}',
    d: { L: [1] },
    want: 'EXEC template: :1:2: executing "" at <index .L "a">: error calling index: cannot index slice/array with type string || ',
  },
  {
    t: "{{index .M 1}}",
    d: { M: { a: 1 } },
    want: 'EXEC template: :1:2: executing "" at <index .M 1>: error calling index: value has type int; should be string || ',
  },
  {
    t: "{{index 5 1}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <index 5 1>: error calling index: can\'t index item of type int || ',
  },
  {
    t: "{{len 3}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <len 3>: error calling len: len of type int || ',
  },
  {
    t: "{{slice .L 2 1}}",
    d: { L: [1, 2, 3] },
    want: 'EXEC template: :1:2: executing "" at <slice .L 2 1>: error calling slice: invalid slice index: 2 > 1 || ',
  },
  {
    t: '{{eq 1 1}} {{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{eq .Miss "x"}} {{eq .Miss nil}}',
    d: {},
    want: "OK true true true true true true false false true",
  },
  {
    t: '{{eq 1 "a"}}',
    d: null,
    want: 'EXEC template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison || ',
  },
  {
    t: "{{lt true false}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison || ',
  },
  {
    t: "{{eq .L .L}}",
    d: { L: [1] },
    want: 'EXEC template: :1:2: executing "" at <eq .L .L>: error calling eq: non-comparable type [%!s(int=1)]: []interface {} || ',
  },
  {
    t: "{{eq 1}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison || ',
  },
  {
    t: '{{html "<a href=\'x\'>&"}} {{js "a\'b\\"c<>=\\n"}} {{urlquery "a b&c=d/é"}} {{html .Miss}} {{html 1 2}}',
    d: {},
    want: "OK &lt;a href=&#39;x&#39;&gt;&amp; a\\'b\\\"c\\u003C\\u003E\\u003D\\u000A a+b%26c%3Dd%2F%C3%A9 &lt;no value&gt; 1 2",
  },
  { t: "{{json .Miss}}", d: {}, want: "OK null" },
  {
    t: '{{split "a,b,c" ","}} {{join .L "-"}} {{join .M "+"}} {{title "hello wORLD-foo_bar"}} {{lower "ABC"}} {{upper "abc"}}',
    d: { L: ["x", 1, true], M: { b: "2", a: "1" } },
    want: "OK [a b c] x-1-true 1+2 Hello WORLD-Foo_bar abc ABC",
  },
  {
    t: "[{{pad .A 2 1}}][{{pad .E 2 1}}][{{truncate .A 2}}][{{truncate .A 10}}]",
    d: { A: "abc", E: "" },
    want: "OK [  abc ][][ab][abc]",
  },
  {
    t: '{{join 5 ","}}',
    d: null,
    want: 'EXEC template: :1:2: executing "" at <join 5 ",">: error calling join: expected slice, got int || ',
  },
  {
    t: "{{lower 5}}",
    d: null,
    want: 'EXEC template: :1:8: executing "" at <5>: expected string; found 5 || ',
  },
  {
    t: "{{lower .N}}",
    d: { N: 5 },
    want: 'EXEC template: :1:8: executing "" at <.N>: wrong type for value; expected string; got int || ',
  },
  {
    t: "{{lower .Miss}}",
    d: {},
    want: 'EXEC template: :1:8: executing "" at <.Miss>: invalid value; expected string || ',
  },
  {
    t: '{{pad "a" "x" 1}}',
    d: null,
    want: 'EXEC template: :1:10: executing "" at <"x">: expected integer; found "x" || ',
  },
  {
    t: '{{pad "a" 1.5 1}}',
    d: null,
    want: 'EXEC template: :1:10: executing "" at <1.5>: expected integer; found 1.5 || ',
  },
  {
    t: "{{upper}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0 || ',
  },
  {
    t: '{{upper "a" "b"}}',
    d: null,
    want: 'EXEC template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 2 || ',
  },
  {
    t: '{{.A | printf "%s-%s" "x"}} {{"abc" | upper | lower}} {{3 | printf "%d"}}',
    d: { A: "a" },
    want: "OK x-a abc 3",
  },
  {
    t: "{{(.A).B}} {{(index .L 0).X}} {{(print 1 2)}}",
    d: { A: { B: "b" }, L: [{ X: "x" }] },
    want: "OK b x 1 2",
  },
  {
    t: "{{1}} {{-1}} {{1.5}} {{1e3}} {{0x1F}} {{0o17}} {{0b101}} {{017}} {{'a'}} {{1_000}} {{.5}} {{true}} {{\"s\\tq\\u00e9\\x41\"}} {{`raw\\n`}}",
    d: null,
    want: "OK 1 -1 1.5 1000 31 15 5 15 97 1000 0.5 true s\tqéA raw\\n",
  },
  { t: "a  {{- 1 -}}  b {{- 2}} c {{3 -}}\n d", d: null, want: "OK a1b2 c 3d" },
  { t: "x{{/* comment */}}y {{- /* c2 */ -}} z", d: null, want: "OK xyz" },
  { t: "{{/* unclosed", d: null, want: "PARSE template: :1: unclosed comment" },
  { t: "{{/* c */ .A}}", d: null, want: "PARSE template: :1: comment ends before closing delimiter" },
  { t: "{{.A", d: null, want: "PARSE template: :1: unclosed action" },
  { t: "{{.A}", d: null, want: "PARSE template: :1: bad character U+007D '}'" },
  { t: "{{foo}}", d: null, want: 'PARSE template: :1: function "foo" not defined' },
  { t: "{{if .A}}x", d: null, want: "PARSE template: :1: unexpected EOF" },
  { t: "{{end}}", d: null, want: "PARSE template: :1: unexpected {{end}}" },
  { t: "{{else}}", d: null, want: "PARSE template: :1: unexpected {{else}}" },
  { t: "{{if}}{{end}}", d: null, want: "PARSE template: :1: missing value for if" },
  { t: "{{range}}{{end}}", d: null, want: "PARSE template: :1: missing value for range" },
  { t: "{{}}", d: null, want: "PARSE template: :1: missing value for command" },
  { t: '{{"abc}}', d: null, want: "PARSE template: :1: unterminated quoted string" },
  { t: "{{`abc}}", d: null, want: "PARSE template: :1: unterminated raw quoted string" },
  { t: "{{.A #}}", d: null, want: 'PARSE template: :1: unexpected "#" in operand' },
  { t: "{{.A$}}", d: null, want: "PARSE template: :1: bad character U+0024 '$'" },
  { t: "{{(.A}}", d: null, want: "PARSE template: :1: unclosed left paren" },
  { t: "{{.A)}}", d: null, want: 'PARSE template: :1: unexpected ")" in command' },
  { t: "{{3x}}", d: null, want: 'PARSE template: :1: bad number syntax: "3x"' },
  { t: "{{'ab'}}", d: null, want: "PARSE template: :1: malformed character constant: 'ab'" },
  { t: '{{"a".B}}', d: null, want: 'PARSE template: :1: unexpected . after term "\\"a\\""' },
  { t: "{{break}}", d: null, want: "PARSE template: :1: {{break}} outside {{range}}" },
  {
    t: "{{range .}}{{continue 1}}{{end}}",
    d: null,
    want: 'PARSE template: :1: unexpected "1" in {{continue}}',
  },
  { t: "{{$x = 1}}", d: null, want: 'EXEC template: :1:7: executing "" at <1>: undefined variable: $x || ' },
  { t: "{{$x := 1 := 2}}", d: null, want: 'PARSE template: :1: unexpected ":=" in operand' },
  {
    t: "{{range $a, $b, $c := .}}{{end}}",
    d: null,
    want: "PARSE template: :1: too many declarations in range",
  },
  { t: "{{with $a, $b := .}}{{end}}", d: null, want: "PARSE template: :1: too many declarations in with" },
  { t: "{{1 | 2}}", d: null, want: "PARSE template: :1: non executable command in pipeline stage 2" },
  {
    t: "{{.A 1}}",
    d: { A: "x" },
    want: 'EXEC template: :1:2: executing "" at <.A>: A is not a method but has arguments || ',
  },
  { t: "{{nil}}", d: null, want: 'EXEC template: :1:2: executing "" at <nil>: nil is not a command || ' },
  {
    t: '{{"x" 1}}',
    d: null,
    want: 'EXEC template: :1:2: executing "" at <"x">: can\'t give argument to non-function "x" || ',
  },
  {
    t: "{{printf}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0 || ',
  },
  {
    t: "{{printf 1}}",
    d: null,
    want: 'EXEC template: :1:9: executing "" at <1>: expected string; found 1 || ',
  },
  {
    t: "{{ .A }}\n{{ .B.C.D }}\n{{.C.D}}",
    d: { A: 1, C: "s" },
    want: 'EXEC template: :3:4: executing "" at <.C.D>: can\'t evaluate field D in type interface {} || 1\n<no value>\n',
  },
  {
    t: '{{template "x" .}}{{define "x"}}{{.Y.Z}}{{end}}',
    d: { Y: 3 },
    want: 'EXEC template: :1:36: executing "x" at <.Y.Z>: can\'t evaluate field Z in type interface {} || ',
  },
  { t: "{{if .A -}} \n yes \n {{- end}}", d: { A: 1 }, want: "OK yes" },
  { t: "{{.A.B}}", d: { A: { B: [{ C: 1 }] } }, want: "OK [map[C:1]]" },
  { t: "{{range .}}{{.Name}},{{end}}", d: [{ Name: "a" }, { Name: "b" }], want: "OK a,b," },
  { t: "{{$x := .}}{{range .L}}{{$x.P}}{{.}}{{end}}", d: { P: "-", L: [1, 2] }, want: "OK -1-2" },
  {
    t: "{{.F}} {{.G}} {{.H}} {{.I}} {{.J}} {{.K}}",
    d: { F: 0.1, G: 1e21, H: 123456789, I: -0.5, J: 1e-7, K: 12345678.9 },
    want: "OK 0.1 1e+21 123456789 -0.5 1e-07 1.23456789e+07",
  },
  {
    t: '{{printf "%v|%s|%d" .M .L .L}}',
    d: { M: { a: [1, 2] }, L: ["x", "y"] },
    want: "OK map[a:[1 2]]|[x y]|[%!d(string=x) %!d(string=y)]",
  },
  {
    t: '{{printf "%5s|%-5s|%05s|%.1s" .L .L .L .L}}',
    d: { L: ["ab", "c"] },
    want: "OK [   ab     c]|[ab    c    ]|[000ab 0000c]|[a c]",
  },
  {
    t: '{{printf "%T %T %T %T %T %T" 1 1.5 "s" .L .M true}}',
    d: { L: [1], M: {} },
    want: "OK int float64 string []interface {} map[string]interface {} bool",
  },
  { t: '{{printf "%!|%z|%" 3}}', d: null, want: "OK %!!(int=3)|%!z(MISSING)|%!(NOVERB)" },
  {
    t: '{{printf "%#v %#v %#v %+v" "s" .L .M .M}}',
    d: { L: [1, "a"], M: { k: 1 } },
    want: 'OK "s" []interface {}{1, "a"} map[string]interface {}{"k":1} map[k:1]',
  },
  { t: '{{printf "%x % x %#x %X" "héllo" "ab" "ab" 255}}', d: null, want: "OK 68c3a96c6c6f 61 62 0x6162 FF" },
  {
    t: '{{printf "%08.3f|%+.2e|% d|%+q|%#q|%q" -3.14159 12345.678 5 "é" "a`b" \'x\'}}',
    d: null,
    want: 'OK -003.142|+1.23e+04| 5|"\\u00e9"|"a`b"|\'x\'',
  },
  {
    t: '{{printf "%.0f %.0f %.0f %.1f %.2f %.3g %.3g %.3g" 0.5 1.5 2.5 0.25 1.005 1.125 1234.5 0.00012345}}',
    d: null,
    want: "OK 0 2 2 0.2 1.00 1.12 1.23e+03 0.000123",
  },
  {
    t: '{{printf "%6.2v|%.3v|%10.4g|%-10.2e|" 3.14159 "abcdef" 123.456 0.000123}}',
    d: null,
    want: "OK    3.1|abc|     123.5|1.23e-04  |",
  },
  {
    t: "{{call .F}}",
    d: {},
    want: 'EXEC template: :1:2: executing "" at <call .F>: error calling call: call of nil || ',
  },
  {
    t: "{{call 1}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <call 1>: error calling call: non-function of type int || ',
  },
  { t: '{{printf "%d" 1.5}}', d: null, want: "OK %!d(float64=1.5)" },
  { t: '{{printf "%s %v" .B .B}}', d: { B: true }, want: "OK %!s(bool=true) true" },
  {
    t: "{{index . 0 1}}",
    d: [
      [1, 2],
      [3, 4],
    ],
    want: "OK 2",
  },
  {
    t: "{{range $i, $e := .}}{{$i}}:{{range $e}}{{.}}{{end}};{{end}}",
    d: [[1, 2], [3]],
    want: "OK 0:12;1:3;",
  },
  { t: '  {{- "x" -}}  ', d: null, want: "OK x" },
  { t: "{{-3}}", d: null, want: "OK -3" },
  { t: "{{ -3 }}", d: null, want: "OK -3" },
  { t: "{{3 - 4}}", d: null, want: 'PARSE template: :1: illegal number syntax: "-"' },
  {
    t: "{{.A.B.C.D.E.F.G.H.I.J.K.L}}",
    d: { A: "x" },
    want: 'EXEC template: :1:4: executing "" at <.A.B.C.D.E.F.G.H.I.J.K.L>: can\'t evaluate field B in type interface {} || ',
  },
  {
    t: '{{printf "%s" .A.B.C.D.E.F.G.H.I.J.K}}',
    d: { A: "x" },
    want: 'EXEC template: :1:16: executing "" at <.A.B.C.D.E.F.G.H.I.J.K>: can\'t evaluate field B in type interface {} || ',
  },
  {
    t: "{{$x := 5}}{{$x.Y}}",
    d: null,
    want: 'EXEC template: :1:15: executing "" at <$x.Y>: can\'t evaluate field Y in type int || ',
  },
  {
    t: "{{9223372036854775808}}",
    d: null,
    want: 'EXEC template: :1:2: executing "" at <9223372036854775808>: 9223372036854775808 overflows int || ',
  },
  {
    t: "{{99999999999999999999}}",
    d: null,
    want: 'PARSE template: :1: integer overflow: "99999999999999999999"',
  },
  { t: "{{1e400}}", d: null, want: 'PARSE template: :1: illegal number syntax: "1e400"' },
  { t: "{{0x}}", d: null, want: 'PARSE template: :1: illegal number syntax: "0x"' },
  { t: "{{€}}", d: null, want: "PARSE template: :1: unrecognized character in action: U+20AC '€'" },
  { t: "{{.A}}{{.B}}\n{{.C ,}}", d: null, want: 'PARSE template: :2: unexpected "," in operand' },
  { t: "{{if 1}}\n{{.A\n}}", d: null, want: "PARSE template: :3: unexpected EOF" },
  { t: '{{"unterminated\n}}', d: null, want: "PARSE template: :1: unterminated quoted string" },
];

function run(c: GoldenCase): string {
  try {
    const t = parseTemplate(c.t, c.miss ? { missingKey: c.miss } : {});
    const r = runTemplate(t, c.d);
    return r.error ? `EXEC ${r.error.message} || ${r.output}` : `OK ${r.output}`;
  } catch (err) {
    assert.ok(err instanceof Error);
    assert.match(err.message, /^template parsing error: /);
    return `PARSE ${err.message.slice("template parsing error: ".length)}`;
  }
}

for (const [i, c] of CASES.entries()) {
  test(`golden ${i}: ${c.t.slice(0, 60)}`, () => {
    assert.equal(run(c), c.want);
  });
}
