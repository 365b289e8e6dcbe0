import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { listenerHosts, refuseBrowserRequest } from "./browser.js";

const l = { host: "127.0.0.1", port: 8123 };
const ok = (
  headers: Record<string, string>,
  method = "GET",
  extra: { upgrade?: boolean; page?: boolean } = {},
) => refuseBrowserRequest(l, { method, headers, upgrade: extra.upgrade ?? false, page: extra.page ?? false });

describe("the web view listener's request rules", () => {
  test("the listener is named by its address and localhost, with its port", () => {
    assert.deepEqual(listenerHosts(l), ["127.0.0.1:8123", "localhost:8123"]);
    assert.deepEqual(listenerHosts({ host: "::1", port: 9 }), ["[::1]:9", "127.0.0.1:9", "localhost:9"]);
  });

  test("the page's own requests pass", () => {
    assert.equal(ok({ host: "127.0.0.1:8123" }), undefined);
    assert.equal(ok({ host: "localhost:8123", "sec-fetch-site": "same-origin" }), undefined);
    assert.equal(ok({ host: "127.0.0.1:8123", origin: "http://127.0.0.1:8123" }, "POST"), undefined);
    assert.equal(
      ok({ host: "127.0.0.1:8123", origin: "http://127.0.0.1:8123" }, "GET", { upgrade: true }),
      undefined,
    );
  });

  test("another Host (DNS rebinding) or another port is refused", () => {
    assert.equal(ok({ host: "evil.example:8123" })?.status, 403);
    assert.equal(ok({ host: "127.0.0.1:8124" })?.status, 403);
    assert.equal(ok({})?.status, 403);
  });

  test("another origin is refused, for reads and changes alike", () => {
    assert.equal(ok({ host: "127.0.0.1:8123", origin: "http://127.0.0.1:3000" })?.status, 403);
    assert.equal(ok({ host: "127.0.0.1:8123", origin: "null" }, "POST")?.status, 403);
    assert.equal(ok({ host: "127.0.0.1:8123", origin: "https://127.0.0.1:8123" }, "POST")?.status, 403);
  });

  test("a change without an Origin is refused (API clients use the API socket)", () => {
    assert.equal(ok({ host: "127.0.0.1:8123" }, "POST")?.status, 403);
    assert.equal(ok({ host: "127.0.0.1:8123" }, "DELETE")?.status, 403);
    assert.equal(ok({ host: "127.0.0.1:8123" }, "GET", { upgrade: true })?.status, 403);
  });

  test("cross-site and same-site fetches are refused; a navigation to the page is not", () => {
    const h = { host: "127.0.0.1:8123" };
    assert.equal(ok({ ...h, "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" })?.status, 403);
    assert.equal(ok({ ...h, "sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors" })?.status, 403);
    assert.equal(
      ok({ ...h, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }, "GET", { page: true }),
      undefined,
    );
    assert.equal(ok({ ...h, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" })?.status, 403);
  });
});
