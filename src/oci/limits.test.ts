import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { seededRandom } from "../base/test-support.js";
import { encodeImageConfig, type ImageConfig, parseImageConfig } from "./image.js";
import { checkDocumentSize, checkLayerCountLimit, MAX_DOCUMENT_BYTES, MAX_LAYERS } from "./limits.js";

/** A config whose labels, env and history together are about `target` bytes. */
function configOf(r: () => number, target: number): ImageConfig {
  const labels: Record<string, string> = {};
  const env: string[] = [];
  const history: Array<{ created_by: string }> = [];
  let size = 0;
  for (let i = 0; size < target; i++) {
    const n = Math.min(target - size, 1 + Math.floor(r() * 60_000));
    const kind = Math.floor(r() * 3);
    if (kind === 0) labels[`l${i}`] = "v".repeat(n);
    else if (kind === 1) env.push(`E${i}=${"e".repeat(n)}`);
    else history.push({ created_by: `RUN ${"h".repeat(n)}` });
    size += n;
  }
  return {
    architecture: "amd64",
    os: "linux",
    config: { Env: env, Labels: labels },
    history,
    rootfs: { type: "layers", diff_ids: [] },
  };
}

test("whatever passes the write check reads back; whatever does not is refused before writing", () => {
  let accepted = 0;
  let refused = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const r = seededRandom(seed);
    const target = MAX_DOCUMENT_BYTES - 200_000 + Math.floor(r() * 400_000);
    const bytes = encodeImageConfig(configOf(r, target));
    let writable = true;
    try {
      checkDocumentSize("image config", bytes.byteLength);
    } catch (err) {
      assert.ok(isBerthError(err, "InvalidArgument"));
      assert.match(err.message, /^image config of \d+ bytes exceeds the limit of 4393216 bytes$/);
      writable = false;
    }
    if (writable) {
      accepted++;
      assert.doesNotThrow(() => parseImageConfig(bytes), `seed ${seed}: written but not readable`);
    } else {
      refused++;
      assert.throws(() => parseImageConfig(bytes), /exceeds the limit/, `seed ${seed}`);
    }
  }
  assert.ok(accepted > 5 && refused > 5, `${accepted} accepted, ${refused} refused`);
});

test("layer count: Docker's 125", () => {
  assert.equal(MAX_LAYERS, 125);
  checkLayerCountLimit(125);
  assert.throws(() => checkLayerCountLimit(126), /max depth exceeded/);
});
