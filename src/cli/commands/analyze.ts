/**
 * `berth image analyze IMAGE`: the engine's layer analysis (what dive shows) as a report, JSON
 * or a template, and a CI mode that exits 1 when a threshold is crossed (dive's `--ci` rules).
 */
import type { ImageAnalysis } from "../../engine/types.js";
import { type Command, exactly } from "../command.js";
import { UsageError } from "../flags.js";
import { encodeJson } from "../format/go-json.js";
import { renderInspect } from "../format/render.js";
import { TabWriter } from "../format/tabwriter.js";
import { fromHumanSize, humanSize } from "../format/units.js";
import { ellipsis } from "./images.js";

/** dive's defaults for the rules `--ci` checks when no threshold is named. */
const CI_DEFAULT_LOWEST_EFFICIENCY = 0.9;
const CI_DEFAULT_HIGHEST_USER_WASTED_PERCENT = 0.1;
/** Rows of the inefficient-files table in the report (JSON has them all). */
const REPORT_INEFFICIENCIES = 10;

export interface AnalyzeThresholds {
  readonly lowestEfficiency?: number;
  readonly highestWastedBytes?: number;
  readonly highestUserWastedPercent?: number;
}

function ratioFlag(flag: string, value: string): number {
  const n = /^\s*[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(
      `invalid argument "${value}" for "--${flag}" flag: a ratio between 0 and 1 is expected`,
    );
  return n;
}

/** The thresholds the flags ask for; undefined when not in CI mode. Bad values are usage errors. */
export function parseThresholds(opts: {
  readonly ci: boolean;
  readonly lowestEfficiency: string | undefined;
  readonly highestWastedBytes: string | undefined;
  readonly highestUserWastedPercent: string | undefined;
}): AnalyzeThresholds | undefined {
  const named =
    opts.lowestEfficiency !== undefined ||
    opts.highestWastedBytes !== undefined ||
    opts.highestUserWastedPercent !== undefined;
  if (!opts.ci && !named) return undefined;
  let wasted: number | undefined;
  if (opts.highestWastedBytes !== undefined) {
    try {
      wasted = fromHumanSize(opts.highestWastedBytes);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new UsageError(
        `invalid argument "${opts.highestWastedBytes}" for "--highest-wasted-bytes" flag: ${why}`,
      );
    }
  }
  // `--ci` alone checks dive's default rules; naming a threshold checks what is named.
  const defaults = opts.ci && !named;
  const ratio = (flag: string, value: string | undefined, ciDefault: number): number | undefined =>
    value !== undefined ? ratioFlag(flag, value) : defaults ? ciDefault : undefined;
  const lowest = ratio("lowest-efficiency", opts.lowestEfficiency, CI_DEFAULT_LOWEST_EFFICIENCY);
  const userPercent = ratio(
    "highest-user-wasted-percent",
    opts.highestUserWastedPercent,
    CI_DEFAULT_HIGHEST_USER_WASTED_PERCENT,
  );
  return {
    ...(lowest !== undefined ? { lowestEfficiency: lowest } : {}),
    ...(wasted !== undefined ? { highestWastedBytes: wasted } : {}),
    ...(userPercent !== undefined ? { highestUserWastedPercent: userPercent } : {}),
  };
}

/** Why the analysis crosses a threshold, one phrase per rule crossed (none: it passes). */
export function crossedThresholds(a: ImageAnalysis, t: AnalyzeThresholds): string[] {
  const out: string[] = [];
  if (t.lowestEfficiency !== undefined && a.Efficiency < t.lowestEfficiency)
    out.push(`efficiency ${percent(a.Efficiency)} is below --lowest-efficiency ${t.lowestEfficiency}`);
  if (t.highestWastedBytes !== undefined && a.WastedBytes > t.highestWastedBytes)
    out.push(
      `${humanSize(a.WastedBytes)} (${a.WastedBytes} bytes) wasted is above --highest-wasted-bytes ${humanSize(t.highestWastedBytes)}`,
    );
  if (t.highestUserWastedPercent !== undefined && a.WastedUserPercent > t.highestUserWastedPercent)
    out.push(
      `${percent(a.WastedUserPercent)} of the bytes above the first layer wasted is above --highest-user-wasted-percent ${t.highestUserWastedPercent}`,
    );
  return out;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

function table(rows: readonly (readonly string[])[]): string {
  const tw = new TabWriter({ minWidth: 0, padding: 2 });
  for (const r of rows) tw.write(`${r.join("\t")}\n`);
  return tw.flush();
}

/** The human report: summary, one row per layer, the inefficient and the largest files. */
export function analysisReport(a: ImageAnalysis, opts: { readonly noTrunc: boolean }): string {
  const name = a.RepoTags[0] ?? a.Id.replace(/^sha256:/, "").slice(0, 12);
  const idText = opts.noTrunc ? a.Id : a.Id.replace(/^sha256:/, "").slice(0, 12);
  let out = `Image:       ${name === idText ? name : `${name} (${idText})`}\n`;
  out += `Total size:  ${humanSize(a.Size)} in ${a.Layers.length} layer${a.Layers.length === 1 ? "" : "s"}\n`;
  out += `Wasted:      ${humanSize(a.WastedBytes)}`;
  out +=
    a.UserSize > 0
      ? ` (${percent(a.WastedUserPercent)} of the ${humanSize(a.UserSize)} above the first layer)\n`
      : "\n";
  out += `Efficiency:  ${percent(a.Efficiency)}\n\n`;
  out += table([
    ["LAYER", "SIZE", "ADDED", "CHANGED", "REMOVED", "CREATED BY"],
    ...a.Layers.map((l) => [
      String(l.Index),
      humanSize(l.Size),
      String(l.Added),
      String(l.Changed),
      String(l.Removed),
      opts.noTrunc ? l.CreatedBy : ellipsis(l.CreatedBy.replace(/\s+/g, " "), 60),
    ]),
  ]);
  if (a.Inefficiencies.length > 0) {
    out += "\nInefficient files (held by more than one layer):\n";
    const shown = opts.noTrunc ? a.Inefficiencies : a.Inefficiencies.slice(0, REPORT_INEFFICIENCIES);
    out += table([
      ["COUNT", "WASTED", "PATH"],
      ...shown.map((i) => [String(i.Count), humanSize(i.WastedBytes), i.Path]),
    ]);
    if (shown.length < a.Inefficiencies.length)
      out += `... and ${a.Inefficiencies.length - shown.length} more (--no-trunc or --format json lists them)\n`;
  }
  if (a.LargestFiles.length > 0) {
    out += "\nLargest files:\n";
    out += table([
      ["SIZE", "LAYER", "PATH"],
      ...a.LargestFiles.map((f) => [humanSize(f.Size), String(f.Layer), f.Path]),
    ]);
  }
  return out;
}

export const analyzeCommand: Command = {
  path: "image analyze",
  usage: "[OPTIONS] IMAGE",
  description: "Show what each layer of an image adds, changes and removes, and the space it wastes",
  args: exactly(1),
  flags: [
    {
      name: "format",
      type: "string",
      valueName: "string",
      description:
        "Format output: 'json' prints the whole analysis as JSON, 'TEMPLATE' runs a Go template on it",
    },
    {
      name: "no-trunc",
      type: "bool",
      description: "Don't truncate instructions; list every inefficient file",
    },
    {
      name: "ci",
      type: "bool",
      description:
        "Check the thresholds (dive's defaults: --lowest-efficiency 0.9 --highest-user-wasted-percent 0.1 when none is named) and exit 1 when one is crossed",
    },
    {
      name: "lowest-efficiency",
      type: "string",
      valueName: "ratio",
      description: "Exit 1 when the efficiency (0-1) is below this",
    },
    {
      name: "highest-wasted-bytes",
      type: "string",
      valueName: "bytes",
      description: "Exit 1 when more bytes than this are wasted (e.g. 20MB)",
    },
    {
      name: "highest-user-wasted-percent",
      type: "string",
      valueName: "ratio",
      description: "Exit 1 when the wasted bytes over the bytes above the first layer (0-1) exceed this",
    },
  ],
  async run(ctx, flags, args) {
    const thresholds = parseThresholds({
      ci: flags.bool("ci"),
      lowestEfficiency: flags.string("lowest-efficiency"),
      highestWastedBytes: flags.string("highest-wasted-bytes"),
      highestUserWastedPercent: flags.string("highest-user-wasted-percent"),
    });
    const analysis = await (await ctx.engine()).imageAnalyze(args[0] as string);
    const format = flags.string("format") ?? "";
    let text: string;
    if (format === "" || format === "table")
      text = analysisReport(analysis, { noTrunc: flags.bool("no-trunc") });
    else if (format === "json") text = `${encodeJson(analysis, { escapeHtml: false })}\n`;
    else text = renderInspect([analysis], format);
    ctx.io.stdout.write(text);
    if (!thresholds) return 0;
    const crossed = crossedThresholds(analysis, thresholds);
    if (crossed.length === 0) return 0;
    ctx.io.stderr.write(`image analyze: ${crossed.join("; ")}\n`);
    return 1;
  },
};
