/**
 * The Docker CLI's formatting layer on top of the template engine: list output (`table …`,
 * `json`, custom templates; formatter.Context in docker/cli) and inspect output
 * (cli/command/inspect). Everything returns the text to print; nothing is written here.
 */
import { type BerthError, invalidArgument } from "../../base/errors.js";
import { encodeJson } from "./go-json.js";
import { TabWriter } from "./tabwriter.js";
import {
  type ExecuteOptions,
  parseTemplate,
  runTemplate,
  type Template,
  type TemplateFunction,
  type TemplateFunctionLike,
} from "./template.js";
import { headerFunctions } from "./template-funcs.js";

/** Options of {@link renderList}. */
export interface RenderListOptions {
  /** The user's `--format`; empty, absent or `table` selects `defaultTableFormat`. */
  format?: string | undefined;
  /** The command's default, e.g. "table {{.Repository}}\t{{.Tag}}\t{{.ID}}". */
  defaultTableFormat: string;
  /** Column titles by field name, e.g. `{ ID: "IMAGE ID" }`; absent fields get an empty title. */
  headers: Readonly<Record<string, string>>;
  /**
   * `--quiet`: print `quietFormat` (default `{{.ID}}`) per row, no header, whatever the format
   * (docker ps/volume ls/network ls behaviour).
   */
  quiet?: boolean;
  quietFormat?: string;
  /** Rows are Go structs (unknown field → error), as Docker's row contexts are. Default true. */
  strictFields?: boolean;
  /** Type name of a row in error messages, e.g. "*formatter.ImageContext". */
  typeName?: string;
  /** Extra functions for the template. */
  funcs?: Readonly<Record<string, TemplateFunctionLike>>;
}

const TABLE = "table";

/** The template text Docker derives from a --format value (Format.templateString). */
export function templateText(format: string): string {
  if (format === TABLE) return "";
  if (format === "json") return "{{json .}}";
  let out = format.startsWith(TABLE) ? format.slice(TABLE.length) : format;
  out = out.replace(/^ +| +$/g, "");
  return out.replace(/\\t|\\n/g, (m) => (m === "\\t" ? "\t" : "\n"));
}

/** A row's execution failure (runTemplate's, always `template: …`) as the docker CLI words it. */
function prefixed(err: BerthError): BerthError {
  return invalidArgument(`template parsing error: ${err.message}`, err);
}

/** Docker's `json` for list rows: a row marshals as a Go map, so keys come out sorted. */
const rowJson: TemplateFunction = {
  params: ["any"],
  fn: (v) => encodeJson(v, { escapeHtml: false, sortKeys: true }),
};

/** The header row's data: the titles, plus Docker's SubHeaderContext.Label method. */
function headerData(headers: Readonly<Record<string, string>>): Record<string, unknown> {
  return {
    ...headers,
    Label(name: unknown): string {
      const parts = String(name).split(".");
      return (parts[parts.length - 1] ?? "").replace(/[-_]/g, " ");
    },
  };
}

/**
 * Renders rows for a list command. A `table` format prints a header line and aligns columns
 * with Go's tabwriter (minwidth 10, padding 3); `json` prints `{{json .}}` per row; any other
 * format prints one executed line per row. Throws invalidArgument("template parsing error: …").
 */
export function renderList(rows: readonly unknown[], opts: RenderListOptions): string {
  let format = opts.format ?? "";
  if (opts.quiet) format = opts.quietFormat ?? "{{.ID}}";
  else if (format === "" || format === TABLE) format = opts.defaultTableFormat;
  const isTable = format.startsWith(TABLE);
  const execOpts: ExecuteOptions = {
    strictFields: opts.strictFields ?? true,
    funcs: { json: rowJson, ...opts.funcs },
  };
  if (opts.typeName) execOpts.typeName = opts.typeName;
  const tmpl: Template = parseTemplate(templateText(format), execOpts);
  let body = "";
  for (const row of rows) {
    const r = runTemplate(tmpl, row);
    if (r.error) throw prefixed(r.error);
    body += `${r.output}\n`;
  }
  if (!isTable) return body;
  const tw = new TabWriter({ minWidth: 10, padding: 3 });
  const header = runTemplate(tmpl, headerData(opts.headers), {
    strictFields: false,
    missingKey: "zero",
    funcs: { ...opts.funcs, ...headerFunctions },
  });
  // Docker ignores a failure of the header template and keeps what it wrote.
  tw.write(header.output);
  tw.write("\n");
  tw.write(body);
  return tw.flush();
}

/** Options of {@link renderInspect}. */
export interface RenderInspectOptions {
  /**
   * What a missing key of the document itself gives. Default "error", as `docker inspect`
   * (`map has no entry for key "Foo"`); keys missing deeper print `<no value>`.
   */
  rootMissingKey?: ExecuteOptions["missingKey"];
  missingKey?: ExecuteOptions["missingKey"];
  funcs?: Readonly<Record<string, TemplateFunctionLike>>;
}

/**
 * Renders inspect output. No format: a JSON array indented with 4 spaces (`[]` when empty);
 * `json`: the array on one line; otherwise the template's output per object, each followed by a
 * newline (a lone newline when all of it is empty, as Docker does).
 */
export function renderInspect(
  objects: readonly unknown[],
  format?: string,
  opts: RenderInspectOptions = {},
): string {
  if (format === undefined || format === "") {
    if (objects.length === 0) return "[]\n";
    return `${encodeJson(objects, { escapeHtml: false, indent: "    " })}\n`;
  }
  if (format === "json") {
    if (objects.length === 0) return "[]\n";
    return `${encodeJson(objects, { escapeHtml: false })}\n`;
  }
  const execOpts: ExecuteOptions = {
    rootMissingKey: opts.rootMissingKey ?? "error",
    funcs: opts.funcs ?? {},
  };
  if (opts.missingKey) execOpts.missingKey = opts.missingKey;
  const tmpl = parseTemplate(format, execOpts);
  let out = "";
  for (const obj of objects) {
    const r = runTemplate(tmpl, obj);
    if (r.error) throw prefixed(r.error);
    out += `${r.output}\n`;
  }
  return out === "" ? "\n" : out;
}
