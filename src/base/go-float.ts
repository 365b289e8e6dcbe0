/**
 * strconv.FormatFloat: Go's float formatting (shortest and fixed precision, round-half-even on the
 * exact binary value), which JavaScript's toPrecision/toFixed do not give (they round ties up).
 * Owned here, below everything, because both the template engine's `printf` and go-units' sizes
 * (written by the CLI and in the engine's progress messages) must print numbers as Go does.
 * Pure: computes strings, touches nothing.
 */

/** Decimal digits of a non-negative float: value = 0.d1d2d3… × 10^dp. No trailing zeros. */
interface Digits {
  d: string;
  dp: number;
}

/** The exact decimal expansion of a finite non-negative double. */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biasedExp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e: number;
  if (biasedExp === 0) {
    e = -1074;
  } else {
    mant |= 1n << 52n;
    e = biasedExp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  return trimDigits({ d: digits, dp });
}

function trimDigits(g: Digits): Digits {
  let end = g.d.length;
  while (end > 0 && g.d[end - 1] === "0") end--;
  return end === 0 ? { d: "", dp: 0 } : { d: g.d.slice(0, end), dp: g.dp };
}

/** The shortest digits that read back as x (JavaScript and Go agree on these). */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  const [mant = "", exp = "0"] = x.toExponential().split("e");
  return trimDigits({ d: mant.replace(".", ""), dp: Number(exp) + 1 });
}

/** Rounds to nd digits, half to even (ties are exact because the digits are exact). */
function roundDigits(g: Digits, nd: number): Digits {
  if (nd < 0) return { d: "", dp: 0 };
  if (nd >= g.d.length) return g;
  const next = g.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next !== 5 || nd + 1 < g.d.length) up = next >= 5;
  else up = nd > 0 && (g.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimDigits({ d: g.d.slice(0, nd), dp: g.dp });
  const arr = g.d.slice(0, nd).split("");
  let i = nd - 1;
  while (i >= 0 && arr[i] === "9") {
    arr[i] = "0";
    i--;
  }
  if (i < 0) return { d: "1", dp: g.dp + 1 };
  arr[i] = String.fromCharCode(arr[i]!.charCodeAt(0) + 1);
  return trimDigits({ d: arr.join(""), dp: g.dp });
}

function fmtE(g: Digits, prec: number, e: string): string {
  let s = g.d.length === 0 ? "0" : g.d[0]!;
  if (prec > 0) {
    s += ".";
    for (let i = 1; i <= prec; i++) s += i < g.d.length ? g.d[i] : "0";
  }
  const exp = g.d.length === 0 ? 0 : g.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${e}${exp < 0 ? "-" : "+"}${abs < 10 ? "0" : ""}${abs}`;
}

function fmtF(g: Digits, prec: number): string {
  let s = "";
  if (g.dp > 0) {
    for (let i = 0; i < g.dp; i++) s += i < g.d.length ? g.d[i] : "0";
  } else {
    s = "0";
  }
  if (prec > 0) {
    s += ".";
    for (let i = 1; i <= prec; i++) {
      const j = g.dp + i - 1;
      s += j >= 0 && j < g.d.length ? g.d[j] : "0";
    }
  }
  return s;
}

/**
 * strconv.FormatFloat(x, verb, prec, 64) for verbs e, E, f, F, g, G; prec -1 means shortest.
 * Returns the sign separately.
 */
export function formatFloat(x: number, verb: string, prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let g: Digits;
  let p = prec;
  switch (verb) {
    case "e":
    case "E":
      g = shortest ? shortestDigits(ax) : roundDigits(exactDigits(ax), p + 1);
      if (shortest) p = Math.max(g.d.length - 1, 0);
      return (neg ? "-" : "") + fmtE(g, p, verb);
    case "f":
    case "F":
      if (shortest) {
        g = shortestDigits(ax);
        p = Math.max(g.d.length - g.dp, 0);
      } else {
        const ex = exactDigits(ax);
        g = roundDigits(ex, ex.dp + p);
      }
      return (neg ? "-" : "") + fmtF(g, p);
    default: {
      if (shortest) {
        g = shortestDigits(ax);
        p = g.d.length;
      } else {
        if (p === 0) p = 1;
        g = roundDigits(exactDigits(ax), p);
      }
      let eprec = p;
      if (eprec > g.d.length && g.d.length >= g.dp) eprec = g.d.length;
      if (shortest) eprec = 6;
      const exp = g.dp - 1;
      if (g.d.length > 0 && (exp < -4 || exp >= eprec)) {
        if (p > g.d.length) p = g.d.length;
        return (neg ? "-" : "") + fmtE(g, p - 1, verb === "G" ? "E" : "e");
      }
      if (p > g.dp) p = g.d.length;
      return (neg ? "-" : "") + fmtF(g, Math.max(p - g.dp, 0));
    }
  }
}
