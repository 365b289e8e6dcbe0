/**
 * Why a build step missed the cache, through the real bin/berth on busybox: after an edit, the
 * step that ran again says under it which copied file changed (by path) and the steps after it
 * that their parent changed; a changed build argument is named where it is used (a COPY that does
 * not use it stays cached) and --no-cache is named; --explain-cache
 * adds a line for every step (cached ones too); BERTH_HINTS=0 silences it; none of it reaches
 * stdout (`-q` prints only the image ID) or changes the exit code.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let s: Store;

before(async () => {
  s = await Store.create();
  await s.busybox();
});
after(async () => {
  await s.cleanup();
});

/** The log lines under each step of plain progress: step name → its lines (without `#N t `). */
function stepLines(progress: string): Map<string, string[]> {
  const names = new Map<string, string>();
  const out = new Map<string, string[]>();
  for (const line of progress.split("\n")) {
    const start = /^#(\d+) (\[(?:[\w.-]+ )?\s*\d+\/\d+\] .*)$/.exec(line);
    if (start) {
      names.set(start[1] as string, start[2] as string);
      out.set(start[2] as string, []);
      continue;
    }
    const log = /^#(\d+) \d+\.\d+ (.*)$/.exec(line);
    const name = log ? names.get(log[1] as string) : undefined;
    if (log && name) out.get(name)?.push(log[2] as string);
  }
  return out;
}

const DOCKERFILE = `FROM busybox
ARG FLAVOUR=plain
COPY app.txt notes.txt /app/
RUN cat /app/app.txt > /app/copy.txt
RUN echo "$FLAVOUR" > /app/flavour.txt
`;

describe("cache-miss explanations", () => {
  let dir: string;

  test("a first build explains nothing; an unchanged rebuild is all cached and silent", async () => {
    dir = s.path("explain");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "Dockerfile"), DOCKERFILE);
    await writeFile(join(dir, "app.txt"), "one\n");
    await writeFile(join(dir, "notes.txt"), "notes\n");
    const first = await s.ok(["build", "--progress=plain", "-t", "explain:1", dir]);
    assert.doesNotMatch(first.stderr, /cache miss/);
    const again = await s.ok(["build", "--progress=plain", dir]);
    assert.doesNotMatch(again.stderr, /cache miss/);
    assert.match(again.stderr, /#\d+ CACHED/);
  });

  test("an edited file is named under the COPY that ran again; later steps name their parent", async () => {
    await writeFile(join(dir, "app.txt"), "two\n");
    const r = await s.ok(["build", "--progress=plain", dir]);
    const lines = stepLines(r.stderr);
    assert.deepEqual(lines.get("[2/4] COPY app.txt notes.txt /app/"), ["cache miss: file changed: app.txt"]);
    assert.deepEqual(lines.get("[3/4] RUN cat /app/app.txt > /app/copy.txt"), [
      "cache miss: parent changed: [2/4] COPY app.txt notes.txt /app/ ran again",
    ]);
  });

  test("a changed build argument is named; -q keeps stdout to the image ID", async () => {
    const r = await s.ok(["build", "-q", "--build-arg", "FLAVOUR=spicy", dir]);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.doesNotMatch(r.stderr, /cache miss/);
    const mild = await s.ok(["build", "--progress=plain", "--build-arg", "FLAVOUR=mild", dir]);
    const lines = stepLines(mild.stderr);
    assert.deepEqual(lines.get('[4/4] RUN echo "$FLAVOUR" > /app/flavour.txt'), [
      'cache miss: build argument FLAVOUR changed: "spicy" → "mild"',
    ]);
    // Docker: an ARG's value misses the cache on its first use, not where it is defined. The COPY
    // does not use FLAVOUR and stays cached; every RUN sees it (as its environment) and runs again.
    assert.deepEqual(lines.get("[2/4] COPY app.txt notes.txt /app/"), []);
    assert.match(mild.stderr, /#(\d+) \[2\/4\] COPY app\.txt notes\.txt \/app\/\n#\1 CACHED\n/);
    assert.deepEqual(lines.get("[3/4] RUN cat /app/app.txt > /app/copy.txt"), [
      'cache miss: build argument FLAVOUR changed: "spicy" → "mild"',
    ]);
  });

  test("--no-cache is named; --explain-cache says something under every step", async () => {
    const none = await s.ok(["build", "--progress=plain", "--no-cache", dir]);
    const lines = stepLines(none.stderr);
    assert.deepEqual(lines.get("[2/4] COPY app.txt notes.txt /app/"), [
      "cache miss: --no-cache: the build cache was not used",
    ]);
    const explained = await s.ok(["build", "--progress=plain", "--explain-cache", dir]);
    const all = stepLines(explained.stderr);
    for (const step of [
      "[2/4] COPY app.txt notes.txt /app/",
      "[3/4] RUN cat /app/app.txt > /app/copy.txt",
      '[4/4] RUN echo "$FLAVOUR" > /app/flavour.txt',
    ]) {
      assert.deepEqual(all.get(step), ["cache hit"], step);
    }
  });

  test("BERTH_HINTS=0 silences the explanation", async () => {
    await writeFile(join(dir, "notes.txt"), "edited notes\n");
    const quiet = await s.ok(["build", "--progress=plain", dir], { env: { BERTH_HINTS: "0" } });
    assert.match(quiet.stderr, /#\d+ DONE/);
    assert.doesNotMatch(quiet.stderr, /cache miss/);
  });

  test("--explain-cache on a new Dockerfile says there was no earlier build", async () => {
    const other = s.path("explain-new");
    await mkdir(other, { recursive: true });
    await writeFile(join(other, "Dockerfile"), "FROM busybox\nRUN echo new > /new.txt\n");
    const r = await s.ok(["build", "--progress=plain", "--explain-cache", other]);
    assert.deepEqual(stepLines(r.stderr).get("[2/2] RUN echo new > /new.txt"), [
      "cache miss: no earlier build of this step in this store",
    ]);
  });
});
