/**
 * Docker's detach-key notation (`--detach-keys`, the API's `detachKeys` and exec's
 * `DetachKeys`), owned once for the CLI and the API server: comma-separated keys, each one
 * character or `ctrl-X` with X a letter, `@`, `[`, `\`, `]`, `^` or `_`; blanks around a key are
 * ignored. Pure.
 */

/** Ctrl-P Ctrl-Q, Docker's default sequence. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [0x10, 0x11];

/** The bytes of a detach sequence, or undefined when the text is not valid notation. */
export function parseDetachKeys(text: string): number[] | undefined {
  const out: number[] = [];
  for (const key of text.split(",")) {
    const k = key.trim();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
      continue;
    }
    if (k.length !== 6 || k.slice(0, 5).toLowerCase() !== "ctrl-") return undefined;
    const c = (k[5] as string).toLowerCase();
    if (c >= "a" && c <= "z") out.push(c.charCodeAt(0) - 0x60);
    else if (c === "@") out.push(0);
    else if ("[\\]^_".includes(c)) out.push(c.charCodeAt(0) - 0x40);
    else return undefined;
  }
  return out;
}
