/**
 * Durations as people read them, with go-units' HumanDuration rules (Docker's STATUS and CREATED).
 * Pure: computes strings; it never reads the clock (the caller passes `now`).
 */

export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(Math.trunc(hours / 24) / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(Math.trunc(hours / 24) / 30)} months`;
  return `${Math.trunc(Math.trunc(Math.trunc(ms / 3_600_000) / 24) / 365)} years`;
}

const GO_UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Go's time.ParseDuration in nanoseconds ("1.5s", "1m30s", "-2h", "0"), or the words of its
 * error ("time: invalid duration \"x\"").
 */
export function parseGoDurationNs(text: string): { ns: number } | { error: string } {
  const quoted = JSON.stringify(text);
  let s = text;
  const sign = s.startsWith("-") ? -1 : 1;
  if (s.startsWith("-") || s.startsWith("+")) s = s.slice(1);
  if (s === "0") return { ns: 0 };
  if (s === "") return { error: `time: invalid duration ${quoted}` };
  let total = 0;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = m?.[1] ?? "";
    const frac = m?.[2];
    if (whole === "" && !frac) return { error: `time: invalid duration ${quoted}` };
    s = s.slice(m?.[0].length ?? 0);
    const unit = /^[^\d.]+/.exec(s)?.[0];
    if (unit === undefined) return { error: `time: missing unit in duration ${quoted}` };
    const per = GO_UNIT_NS[unit];
    if (per === undefined)
      return { error: `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}` };
    s = s.slice(unit.length);
    total += Number(`${whole || "0"}.${frac ?? ""}0`) * per;
  }
  return { ns: sign * Math.round(total) };
}
