/**
 * Signal names as Docker parses them (moby's `signal.ParseSignal` and its Linux SignalMap): a
 * name with or without `SIG`, any case, or a number. Anything else is Docker's
 * `Invalid signal: X`, refused before a container is touched.
 * Pure: it names signals; it never sends one.
 */
import { invalidArgument } from "../base/errors.js";

const SIGNALS: Readonly<Record<string, number>> = (() => {
  const m: Record<string, number> = {
    ABRT: 6,
    ALRM: 14,
    BUS: 7,
    CHLD: 17,
    CLD: 17,
    CONT: 18,
    FPE: 8,
    HUP: 1,
    ILL: 4,
    INT: 2,
    IO: 29,
    IOT: 6,
    KILL: 9,
    PIPE: 13,
    POLL: 29,
    PROF: 27,
    PWR: 30,
    QUIT: 3,
    SEGV: 11,
    STKFLT: 16,
    STOP: 19,
    SYS: 31,
    TERM: 15,
    TRAP: 5,
    TSTP: 20,
    TTIN: 21,
    TTOU: 22,
    URG: 23,
    USR1: 10,
    USR2: 12,
    VTALRM: 26,
    WINCH: 28,
    XCPU: 24,
    XFSZ: 25,
    RTMIN: 34,
    RTMAX: 64,
  };
  for (let i = 1; i <= 15; i++) m[`RTMIN+${i}`] = 34 + i;
  for (let i = 1; i <= 14; i++) m[`RTMAX-${i}`] = 64 - i;
  return m;
})();

/** The highest signal number on Linux (SIGRTMAX). */
const MAX_SIGNAL = 64;

/** "SIGTERM", "term", "15" → 15; `Invalid signal: X` for anything else (0 and >64 included). */
export function parseSignal(raw: string): number {
  const t = raw.trim();
  if (/^-?\d+$/.test(t)) {
    const n = Number(t);
    if (n >= 1 && n <= MAX_SIGNAL) return n;
    throw invalidArgument(`Invalid signal: ${raw}`);
  }
  const n = SIGNALS[t.toUpperCase().replace(/^SIG/, "")];
  if (n === undefined) throw invalidArgument(`Invalid signal: ${raw}`);
  return n;
}
