import assert from "node:assert/strict";
import { test } from "node:test";
import { displayablePorts } from "./ports.js";

test("a range published on the same numbers is one group; other numbers are listed one by one after", () => {
  assert.equal(
    displayablePorts([
      { IP: "0.0.0.0", PrivatePort: 3002, PublicPort: 3002, Type: "tcp" },
      { IP: "0.0.0.0", PrivatePort: 3000, PublicPort: 3000, Type: "tcp" },
      { IP: "0.0.0.0", PrivatePort: 3001, PublicPort: 3001, Type: "tcp" },
      { IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
    ]),
    "0.0.0.0:3000-3002->3000-3002/tcp, 0.0.0.0:8080->80/tcp",
  );
});

test("unpublished ports group per protocol; a gap closes a group, which is listed before the open ones", () => {
  assert.equal(
    displayablePorts([
      { PrivatePort: 80, Type: "tcp" },
      { PrivatePort: 81, Type: "tcp" },
      { PrivatePort: 83, Type: "tcp" },
      { PrivatePort: 53, Type: "udp" },
    ]),
    "80-81/tcp, 53/udp, 83/tcp",
  );
});

test("a range mapped to other numbers is not grouped; single ports and no ports", () => {
  assert.equal(
    displayablePorts([
      { IP: "0.0.0.0", PrivatePort: 3000, PublicPort: 4000, Type: "tcp" },
      { IP: "0.0.0.0", PrivatePort: 3001, PublicPort: 4001, Type: "tcp" },
      { IP: "127.0.0.1", PrivatePort: 5000, PublicPort: 5000, Type: "udp" },
    ]),
    "127.0.0.1:5000->5000/udp, 0.0.0.0:4000->3000/tcp, 0.0.0.0:4001->3001/tcp",
  );
  assert.equal(displayablePorts([]), "");
});
