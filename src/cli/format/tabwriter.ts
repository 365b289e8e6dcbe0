/**
 * Go's text/tabwriter (the Docker CLI's copy, which measures East Asian wide characters as two
 * columns), with padding by a pad character and no flags. Cells are terminated by `\t`; a line
 * without any tab ends a block of aligned columns; the last cell of a line is never padded.
 */

/** Settings of a tab writer, as Go's tabwriter.NewWriter(out, minwidth, tabwidth, padding, padchar, 0). */
export interface TabWriterOptions {
  minWidth: number;
  padding: number;
  padChar?: string;
}

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Display width of a string: wide (CJK, fullwidth, emoji) characters count 2, marks 0. */
export function displayWidth(s: string): number {
  // Nearly every cell is printable ASCII: one column per character, no per-character work.
  if (PRINTABLE_ASCII.test(s)) return s.length;
  let w = 0;
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (r < 0x20 || (r >= 0x7f && r < 0xa0)) continue;
    if (/\p{M}/u.test(ch) || r === 0x200b) continue;
    w += isWide(r) ? 2 : 1;
  }
  return w;
}

/** The East Asian wide and emoji ranges (inclusive) that take two columns. */
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function isWide(r: number): boolean {
  return WIDE_RANGES.some(([lo, hi]) => r >= lo && r <= hi);
}

/** Accumulates text and returns it aligned; create one per table. */
export class TabWriter {
  private lines: Cell[][] = [[]];
  private cell = "";
  private widths: number[] = [];
  private out: string[] = [];
  private readonly padChar: string;

  constructor(private readonly opts: TabWriterOptions) {
    this.padChar = opts.padChar ?? " ";
  }

  write(text: string): void {
    // Text between the control characters goes into the cell in one piece (a per-character loop
    // was most of `ps -a`'s time with 1000 containers).
    const control = /[\t\v\n\f]/g;
    let from = 0;
    for (let m = control.exec(text); m !== null; m = control.exec(text)) {
      this.cell += text.slice(from, m.index);
      from = m.index + 1;
      const ch = m[0];
      if (ch === "\t" || ch === "\v") {
        this.terminateCell(ch === "\t");
      } else {
        const ncells = this.terminateCell(false);
        this.lines.push([]);
        if (ch === "\f" || ncells === 1) this.flushLines();
      }
    }
    this.cell += text.slice(from);
  }

  /** Formats everything written so far and returns the whole output. */
  flush(): string {
    this.flushLines();
    const s = this.out.join("");
    this.out = [];
    return s;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1]!;
    line.push({ text: this.cell, width: displayWidth(this.cell), htab });
    this.cell = "";
    return line.length;
  }

  private flushLines(): void {
    if (this.cell.length > 0) this.terminateCell(false);
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= this.lines[i]!.length - 1) continue;
      this.writeLines(start, i);
      start = i;
      let width = this.opts.minWidth;
      for (; i < line1; i++) {
        const line = this.lines[i]!;
        if (column >= line.length - 1) break;
        const w = line[column]!.width + this.opts.padding;
        if (w > width) width = w;
      }
      this.widths.push(width);
      this.format(start, i);
      this.widths.pop();
      start = i;
      i--;
    }
    this.writeLines(start, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i]!;
      line.forEach((c, j) => {
        this.out.push(c.text);
        if (j < this.widths.length)
          this.out.push(this.padChar.repeat(Math.max(this.widths[j]! - c.width, 0)));
      });
      if (i + 1 < this.lines.length) this.out.push("\n");
    }
  }
}
