import assert from "node:assert/strict";
import { isIP } from "node:net";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { exposedPortKeys, parsePortRange, parsePublishSpec } from "./ports.js";

const validIp = (ip: string) => isIP(ip) !== 0;

describe("parsePortRange (nat.ParsePortRange)", () => {
  test("one port or a range, 0 to 65535", () => {
    assert.deepEqual(parsePortRange("80"), { start: 80, end: 80 });
    assert.deepEqual(parsePortRange("7000-7002"), { start: 7000, end: 7002 });
    assert.deepEqual(parsePortRange("0"), { start: 0, end: 0 });
    assert.deepEqual(parsePortRange("65535"), { start: 65535, end: 65535 });
  });
  test("says what is wrong: the syntax or the range", () => {
    for (const t of ["", "NaN", "NaN-NaN", "8080-NaN", "-80", "80-", "1-2-3", "+80"])
      assert.equal(parsePortRange(t), "syntax", t);
    for (const t of ["65536", "1234567890-8080", "8082-8080", "80-70000"])
      assert.equal(parsePortRange(t), "range", t);
  });
});

describe("exposedPortKeys (--expose and EXPOSE)", () => {
  test("Docker's documented forms: a port, a protocol, a range of ports", () => {
    assert.deepEqual(exposedPortKeys("80"), ["80/tcp"]);
    assert.deepEqual(exposedPortKeys("80/udp"), ["80/udp"]);
    assert.deepEqual(exposedPortKeys("80/tcp"), ["80/tcp"]);
    assert.deepEqual(exposedPortKeys("8080/tcp"), ["8080/tcp"]);
    assert.deepEqual(exposedPortKeys("8080-8080/udp"), ["8080/udp"]);
    assert.deepEqual(exposedPortKeys("8080-8082/tcp"), ["8080/tcp", "8081/tcp", "8082/tcp"]);
    assert.deepEqual(exposedPortKeys("7000-7002"), ["7000/tcp", "7001/tcp", "7002/tcp"]);
    assert.deepEqual(exposedPortKeys("7000-7002/udp"), ["7000/udp", "7001/udp", "7002/udp"]);
    assert.deepEqual(exposedPortKeys("9/sctp"), ["9/sctp"]);
  });
  test("the protocol in any case; an empty one is tcp", () => {
    assert.deepEqual(exposedPortKeys("443/TCP"), ["443/tcp"]);
    assert.deepEqual(exposedPortKeys("53/Udp"), ["53/udp"]);
    assert.deepEqual(exposedPortKeys("80/"), ["80/tcp"]);
  });
  test("what Docker refuses is refused with a one-line error", () => {
    const refused: Array<[string, RegExp]> = [
      [":", /^invalid containerPort: :$/],
      ["8080:9090", /^invalid containerPort: 8080:9090$/],
      ["/tcp", /^invalid containerPort: \/tcp$/],
      ["/udp", /^invalid containerPort: \/udp$/],
      ["NaN/tcp", /^invalid containerPort: NaN\/tcp$/],
      ["NaN-NaN/tcp", /^invalid containerPort: NaN-NaN\/tcp$/],
      ["8080-NaN/tcp", /^invalid containerPort: 8080-NaN\/tcp$/],
      ["1234567890-8080/tcp", /^invalid range specified for port: 1234567890-8080\/tcp$/],
      ["99999", /^invalid range specified for port: 99999$/],
      ["7002-7000", /^invalid range specified for port: 7002-7000$/],
      ["80/xyz", /^invalid proto: xyz$/],
    ];
    for (const [spec, message] of refused)
      assert.throws(
        () => exposedPortKeys(spec),
        (err: unknown) => isBerthError(err, "InvalidArgument") && message.test(err.message),
        spec,
      );
  });
});

describe("parsePublishSpec (-p)", () => {
  test("Docker's documented forms", () => {
    assert.deepEqual(parsePublishSpec("8080:80", { validIp }), {
      hostIp: "",
      hostPort: "8080",
      host: { start: 8080, end: 8080 },
      containerPort: "80",
      container: { start: 80, end: 80 },
      proto: "tcp",
    });
    const local = parsePublishSpec("127.0.0.1:80:8080/tcp", { validIp });
    assert.equal(local.hostIp, "127.0.0.1");
    assert.deepEqual(
      [local.host, local.container, local.proto],
      [{ start: 80, end: 80 }, { start: 8080, end: 8080 }, "tcp"],
    );
    assert.equal(parsePublishSpec("192.168.1.100:8080:80", { validIp }).hostIp, "192.168.1.100");
    assert.equal(parsePublishSpec("8080:80/udp", { validIp }).proto, "udp");
    const v6 = parsePublishSpec("[::1]:8080:80", { validIp });
    assert.deepEqual([v6.hostIp, v6.hostPort, v6.containerPort], ["::1", "8080", "80"]);
    const any = parsePublishSpec("127.0.0.1::80", { validIp });
    assert.deepEqual([any.hostIp, any.hostPort, any.host], ["127.0.0.1", "", undefined]);
    const bare = parsePublishSpec("80", { validIp });
    assert.deepEqual([bare.hostIp, bare.hostPort, bare.host], ["", "", undefined]);
  });
  test("ranges of equal length, or a host range for one container port", () => {
    const r = parsePublishSpec("8080-8081:80-81", { validIp });
    assert.deepEqual(
      [r.host, r.container],
      [
        { start: 8080, end: 8081 },
        { start: 80, end: 81 },
      ],
    );
    assert.deepEqual(parsePublishSpec("8080-8090:80", { validIp }).host, { start: 8080, end: 8090 });
    assert.throws(() => parsePublishSpec("8080-8082:80-81", { validIp }), {
      message: "invalid ranges specified for container and host Ports: 80-81 and 8080-8082",
    });
  });
  test("a bad address, port or protocol is named", () => {
    assert.throws(() => parsePublishSpec("1.2.3:8080:80", { validIp }), /invalid IP address: 1\.2\.3/);
    assert.throws(() => parsePublishSpec("x:80", { validIp }), /invalid hostPort: x/);
    assert.throws(() => parsePublishSpec("0:80", { validIp }), /invalid hostPort: 0/);
    assert.throws(() => parsePublishSpec("8080:70000", { validIp }), /invalid containerPort: 70000/);
    assert.throws(() => parsePublishSpec("8080:80/xyz", { validIp }), /invalid proto: xyz/);
  });
});
