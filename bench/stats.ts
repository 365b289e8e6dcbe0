/**
 * Numbers and table rendering for `npm run bench`: medians with min–max, ratios of samples taken
 * side by side, and the markdown table. Pure: no host access.
 */

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function summarize(samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number, n: s.length };
}

/** Milliseconds as a person reads them: "7.4 ms", "312 ms", "2.41 s". */
export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Kibibytes as MiB: "61.2 MiB". */
export function formatKiB(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** "312 ms (298–340)": the median, then min–max, in the median's unit. */
export function formatSummary(s: Summary, unit: "ms" | "KiB" = "ms"): string {
  if (unit === "KiB")
    return `${formatKiB(s.median)} (${(s.min / 1024).toFixed(1)}–${(s.max / 1024).toFixed(1)})`;
  const f = formatMs;
  return `${f(s.median)} (${f(s.min).replace(/ .*/, "")}–${f(s.max)})`;
}

/** The ratio of two medians measured in the same interleaved run: "8.1×". */
export function ratio(a: Summary, b: Summary): number {
  return a.median / b.median;
}

export function formatRatio(r: number): string {
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

/** A GitHub-flavoured markdown table; cells may not contain "|" (escaped if they do). */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}
