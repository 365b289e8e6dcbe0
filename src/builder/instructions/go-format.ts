/**
 * Go's fmt verbs as BuildKit's Dockerfile frontend uses them in history `created_by` strings:
 * `%q` of a []string (`["npm" "start"]`), `%v` of a []string (`[3000/tcp]`) and time.Duration's
 * String (`1m30s`). Pure.
 */

/** strconv.Quote of a string (close enough: JSON escaping with Go's \x form for control bytes). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, "\\x$1");
}

/** fmt's %q of a []string. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(" ")}]`;
}

/** fmt's %v of a []string. */
export function goList(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

/** time.Duration(ns).String(). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    if (n < 1e3) out = `${n}ns`;
    else if (n < 1e6) out = `${trimFraction(n / 1e3)}µs`;
    else out = `${trimFraction(n / 1e6)}ms`;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const s = `${trimFraction(n / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(v: number): string {
  return String(Number(v.toFixed(9)));
}
