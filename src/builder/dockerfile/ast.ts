/**
 * The parsed form of a Dockerfile: the contract between the parser (`builder/dockerfile/parse.ts`)
 * and everything that interprets instructions (`builder/instructions`, the executor in `builder/`).
 * An `Instruction` is the syntax node (BuildKit's parser.Node); its typed form, one type per
 * instruction kind, is `Command` (`commands.ts`).
 *
 * The parser does syntax only: directives, comments, line continuations, heredocs, flags, the
 * JSON (exec) form. It does not expand variables: expansion depends on ARG/ENV values that are
 * only known while a stage is being built, so interpreters call `expand.ts` themselves.
 */

/** One `<<EOF` … `EOF` body attached to an instruction (RUN, COPY, ADD). */
export interface Heredoc {
  /** The delimiter word without quotes (`EOF`). */
  readonly name: string;
  /** The body, lines joined with "\n", ending with "\n" (leading tabs removed for `<<-`). */
  readonly content: string;
  /** True when the delimiter was unquoted: the body is subject to variable expansion. */
  readonly expand: boolean;
  /** True for `<<-EOF` (leading tabs stripped from the body and the closing delimiter). */
  readonly chomp: boolean;
}

/** A `--name=value` (or bare `--name`) flag written before an instruction's arguments. */
export interface InstructionFlag {
  readonly name: string;
  /** undefined for a bare `--name`. Unexpanded. */
  readonly value: string | undefined;
}

export interface Instruction {
  /** The instruction word, upper-cased (`RUN`, `COPY`, `FROM`, …). */
  readonly keyword: string;
  /** Flags before the arguments, in order, unexpanded. */
  readonly flags: readonly InstructionFlag[];
  /**
   * The arguments after the flags as written (continuations joined with nothing between them, as
   * Docker joins them; comment lines inside a continuation dropped), unexpanded, trimmed.
   */
  readonly args: string;
  /** When the arguments are a JSON array of strings (exec form), its elements; else undefined. */
  readonly json: readonly string[] | undefined;
  /** Heredoc bodies in the order their `<<NAME` markers appear in `args`. */
  readonly heredocs: readonly Heredoc[];
  /** The instruction as Docker prints it in errors and build progress (keyword + flags + args). */
  readonly original: string;
  /** 1-based first and last source lines (the last includes continuation and heredoc lines). */
  readonly startLine: number;
  readonly endLine: number;
  /**
   * ONBUILD only: the trigger instruction, parsed for its syntax (keyword, flags, exec form,
   * heredocs) but not validated — Docker checks a trigger when a child build runs it. The text to
   * record in the image config is `onbuildExpression(instruction)` (commands.ts).
   */
  readonly trigger?: Instruction;
}

export interface Dockerfile {
  /** The name errors use (`Dockerfile`, or the `-f` path as given). */
  readonly file: string;
  /** The escape character from the `# escape=` directive (default backslash). */
  readonly escape: "\\" | "`";
  /** The `# syntax=` directive when present (recorded; berth has one frontend). */
  readonly syntax: string | undefined;
  /** Every instruction, in order; ARGs before the first FROM included. */
  readonly instructions: readonly Instruction[];
}

/** A syntax error: `Dockerfile:7: unknown instruction: COPPY` (file, line, message). */
export interface DockerfileSyntaxError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}
