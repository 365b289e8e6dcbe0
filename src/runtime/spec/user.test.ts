import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertInvalid } from "../../base/test-support.js";
import { resolveUser } from "./user.js";

const passwd = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "  www-data:x:33:33:www-data:/var/www:/bin/false  ",
  "",
  "1234:x:5000:5000:numeric name:/n:/bin/sh",
  "nohome:x:70:70::",
].join("\n");
const group = [
  "# comment",
  "root:x:0:",
  "daemon:x:1:",
  "wheel:x:10:root,www-data",
  "www-data:x:33:",
  "staff:x:50:www-data",
  "1234:x:6000:",
].join("\n");

describe("resolveUser", () => {
  test('"" is root, with its passwd home and supplementary groups', () => {
    assert.deepEqual(resolveUser("", { passwd, group }), {
      uid: 0,
      gid: 0,
      additionalGids: [0, 10],
      home: "/root",
    });
    assert.deepEqual(resolveUser("", {}), { uid: 0, gid: 0, additionalGids: [0], home: "/" });
  });

  test("name, uid, name:group, uid:gid, name:gid, uid:group", () => {
    assert.deepEqual(resolveUser("www-data", { passwd, group }), {
      uid: 33,
      gid: 33,
      additionalGids: [33, 10, 50],
      home: "/var/www",
    });
    assert.deepEqual(resolveUser("33", { passwd, group }), {
      uid: 33,
      gid: 33,
      additionalGids: [33, 10, 50],
      home: "/var/www",
    });
    // An explicit group: no supplementary groups.
    assert.deepEqual(resolveUser("www-data:staff", { passwd, group }), {
      uid: 33,
      gid: 50,
      additionalGids: [50],
      home: "/var/www",
    });
    assert.deepEqual(resolveUser("33:10", { passwd, group }), {
      uid: 33,
      gid: 10,
      additionalGids: [10],
      home: "/var/www",
    });
    assert.deepEqual(resolveUser("daemon:4000", { passwd, group }), {
      uid: 1,
      gid: 4000,
      additionalGids: [4000],
      home: "/usr/sbin",
    });
    assert.deepEqual(resolveUser("4000:wheel", { passwd, group }), {
      uid: 4000,
      gid: 10,
      additionalGids: [10],
      home: "/",
    });
  });

  test("numeric values are IDs, never names", () => {
    // The passwd entry *named* "1234" is not used for "1234"; no entry has uid 1234.
    assert.deepEqual(resolveUser("1234", { passwd, group }), {
      uid: 1234,
      gid: 0,
      additionalGids: [0],
      home: "/",
    });
    assert.deepEqual(resolveUser("0:1234", { passwd, group }), {
      uid: 0,
      gid: 1234,
      additionalGids: [1234],
      home: "/root",
    });
    assert.deepEqual(resolveUser("+7", { passwd }), { uid: 7, gid: 0, additionalGids: [0], home: "/" });
    assert.deepEqual(resolveUser("2147483647", {}), {
      uid: 2147483647,
      gid: 0,
      additionalGids: [0],
      home: "/",
    });
  });

  test("IDs outside 0…2^31-1 are refused", () => {
    for (const spec of ["-1", "2147483648", "99999999999999999999", "0:-5", "1:4294967295"]) {
      assertInvalid(
        () => resolveUser(spec, { passwd, group }),
        "uids and gids must be in range 0-2147483647",
      );
    }
    assertInvalid(
      () => resolveUser("", { passwd, group }, ["-3"]),
      "uids and gids must be in range 0-2147483647",
    );
  });

  test("unknown names fail with Docker's messages", () => {
    assertInvalid(
      () => resolveUser("nobody", { passwd, group }),
      "unable to find user nobody: no matching entries in passwd file",
    );
    assertInvalid(
      () => resolveUser("nobody", {}),
      "unable to find user nobody: no matching entries in passwd file",
    );
    assertInvalid(
      () => resolveUser("root:nogroup", { passwd, group }),
      "unable to find group nogroup: no matching entries in group file",
    );
    assertInvalid(
      () => resolveUser("", { passwd, group }, ["audio"]),
      "unable to find group audio: no matching entries in group file",
    );
  });

  test("--group-add: names and numbers, found or numeric, deduplicated, after the user's groups", () => {
    assert.deepEqual(
      resolveUser("daemon", { passwd, group }, ["staff", "10", "777", "wheel"]).additionalGids,
      [1, 50, 10, 777],
    );
    assert.deepEqual(resolveUser("", { passwd }, ["5"]).additionalGids, [0, 5]);
  });

  test("an empty home field gives /", () => {
    assert.equal(resolveUser("nohome", { passwd }).home, "/");
  });
});
