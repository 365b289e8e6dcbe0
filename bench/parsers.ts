/**
 * In-process timings of berth's parsers on hostile input: the guard against catastrophic
 * backtracking that a unit test must not assert as a time (the project's rule: no timing
 * assertion in a test). The unit tests check that such input is refused; this measures how long
 * the refusal takes, with the same median (min–max) as the bench's other rows, and says when it
 * is over the budget. `npm run bench` prints these lines after its table; `node
 * dist/bench/parsers.js [--runs N]` prints them alone (no engine, no store).
 */
import { pathToFileURL } from "node:url";
import { parseNormalizedNamed } from "../src/oci/reference.js";
import { formatSummary, summarize } from "./stats.js";

/** A refusal slower than this on one of the hostile inputs is reported as over budget. */
export const REFUSAL_BUDGET_MS = 1000;

/** Image references that a backtracking pattern would take exponential time on (~40 kB each). */
function hostileReferences(): string[] {
  const repeated: Array<[string, string, string]> = [
    ["", "a-", "!"],
    ["", "a.", "/a!"],
    ["", "a__", "_"],
    ["", "aA-", ":"],
    ["[", "a:", "!"],
  ];
  return [
    ...repeated.map(([head, unit, tail]) => `${head}${unit.repeat(20000)}${tail}`),
    `a@sha256:${"0".repeat(40000)}!`,
  ];
}

/** One line per parser: the time to refuse all of its hostile inputs, over `runs` rounds. */
export function parserTimings(runs: number): string[] {
  const inputs = hostileReferences();
  const samples: number[] = [];
  let accepted = 0;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (const s of inputs) {
      try {
        parseNormalizedNamed(s);
        accepted++;
      } catch {
        // refused, as it must be
      }
    }
    samples.push(performance.now() - start);
  }
  const s = summarize(samples);
  if (!s) return [];
  const verdict =
    accepted > 0
      ? `; ${accepted} accepted (must be refused)`
      : s.max > REFUSAL_BUDGET_MS
        ? `; over the ${REFUSAL_BUDGET_MS} ms budget`
        : `; within the ${REFUSAL_BUDGET_MS} ms budget`;
  return [
    `- image references, ${inputs.length} hostile inputs of ~40 kB refused: ${formatSummary(s)}${verdict}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf("--runs");
  const runs = at >= 0 ? Math.max(1, Number(process.argv[at + 1])) : 5;
  process.stdout.write(`Parsers on hostile input (in process):\n${parserTimings(runs).join("\n")}\n`);
}
