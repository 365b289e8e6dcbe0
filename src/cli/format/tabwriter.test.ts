/** Expected output was produced by Go's text/tabwriter with Docker's settings (10, 1, 3, ' ', 0). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { displayWidth, TabWriter } from "./tabwriter.js";

test("aligns blocks of tab-separated cells like Go's tabwriter", () => {
  const tw = new TabWriter({ minWidth: 10, padding: 3 });
  tw.write("REPOSITORY\tTAG\tIMAGE ID\n");
  tw.write("busybox\tlatest\tabc\n");
  tw.write("a-very-long-repository-name\t1.0\tdef\n");
  tw.write("no tabs here\n");
  tw.write("x\ty\n");
  tw.write("\t\tz\n");
  tw.write("trailing\t");
  assert.equal(
    tw.flush(),
    "REPOSITORY                    TAG       IMAGE ID\n" +
      "busybox                       latest    abc\n" +
      "a-very-long-repository-name   1.0       def\n" +
      "no tabs here\n" +
      "x         y\n" +
      "                    z\n" +
      "trailing",
  );
});

test("wide characters count two columns, marks none", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("日本"), 4);
  assert.equal(displayWidth("e\u0301"), 1);
  const tw = new TabWriter({ minWidth: 0, padding: 1 });
  tw.write("日本\tx\nab\ty\n");
  assert.equal(tw.flush(), "日本 x\nab   y\n");
});
