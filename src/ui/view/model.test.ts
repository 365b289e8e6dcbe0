import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeContainers, decodeEvent, decodeImageDetails } from "./decode.js";
import {
  enterCommand,
  imageView,
  instructionText,
  layerOwners,
  portLinks,
  sharedWith,
  stackOf,
} from "./model.js";

// History as the API gives it (newest first) for a build on a two-layer base.
const history = [
  { CreatedBy: 'CMD ["npm" "start"]', Size: 0 },
  { CreatedBy: "EXPOSE map[3000/tcp:{}]", Size: 0 },
  { CreatedBy: "COPY . . # buildkit", Size: 2048 },
  { CreatedBy: "RUN /bin/sh -c npm install # buildkit", Size: 0 },
  { CreatedBy: "COPY package*.json ./ # buildkit", Size: 900 },
  { CreatedBy: "WORKDIR /app", Size: 0 },
  { CreatedBy: '/bin/sh -c #(nop)  CMD ["node"]', Size: 0 },
  { CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / ", Size: 5_000_000 },
];
const base = { Id: "sha256:b", Layers: ["sha256:l1"] };
const app = { Id: "sha256:a", Layers: ["sha256:l1", "sha256:l2", "sha256:l3", "sha256:l4", "sha256:l5"] };

describe("the web view's model", () => {
  test("instructions read as written: no /bin/sh -c #(nop), no # buildkit", () => {
    assert.equal(instructionText('/bin/sh -c #(nop)  CMD ["node"]'), 'CMD ["node"]');
    assert.equal(instructionText("/bin/sh -c apk add curl"), "RUN apk add curl");
    assert.equal(instructionText("COPY . . # buildkit"), "COPY . .");
  });

  test("history rows are matched to layers: sized rows, then file-changing rows of size 0", () => {
    const { layers, configSteps } = stackOf(app, history);
    assert.deepEqual(
      layers.map((l) => [l.createdBy, l.size, l.exact]),
      [
        ["ADD file:abc in /", 5_000_000, true],
        ["WORKDIR /app", 0, true],
        ["COPY package*.json ./", 900, true],
        ["RUN /bin/sh -c npm install", 0, true],
        ["COPY . .", 2048, true],
      ],
    );
    assert.deepEqual(configSteps, ['CMD ["node"]', "EXPOSE map[3000/tcp:{}]", 'CMD ["npm" "start"]']);
  });

  test("when the count does not settle it, no layer gets a guessed instruction", () => {
    const { layers, configSteps } = stackOf({ Id: "x", Layers: ["a", "b"] }, [
      { CreatedBy: "RUN true", Size: 0 },
      { CreatedBy: "RUN false", Size: 0 },
      { CreatedBy: "RUN x", Size: 0 },
    ]);
    assert.deepEqual(
      layers.map((l) => [l.createdBy, l.exact]),
      [
        ["", false],
        ["", false],
      ],
    );
    assert.equal(configSteps.length, 3);
  });

  test("a layer is shared when another image holds it with everything below it", () => {
    const a = imageView(
      { Id: "sha256:a", RepoTags: ["app:1"], Size: 1, Created: 0, Containers: 0 },
      app,
      history,
    );
    const b = imageView({ Id: "sha256:b", RepoTags: [], Size: 1, Created: 0, Containers: 0 }, base, [
      history[7] ?? { CreatedBy: "", Size: 0 },
    ]);
    const c = imageView(
      { Id: "sha256:c", RepoTags: ["other:1"], Size: 1, Created: 0, Containers: 0 },
      { Id: "sha256:c", Layers: ["sha256:l9", "sha256:l2"] },
      [],
    );
    assert.deepEqual(b.names, ["b"]);
    const owners = layerOwners([a, b, c]);
    const bottom = a.layers[0];
    const second = a.layers[1];
    assert.ok(bottom && second);
    assert.deepEqual(sharedWith(owners, a, bottom), ["b"]);
    // The same diffID on another base is another layer.
    assert.deepEqual(sharedWith(owners, a, second), []);
  });

  test("ports link to loopback once per host port; unpublished ports are labels", () => {
    assert.deepEqual(
      portLinks([
        { IP: "0.0.0.0", PrivatePort: 3000, PublicPort: 8080, Type: "tcp" },
        { IP: "::", PrivatePort: 3000, PublicPort: 8080, Type: "tcp" },
        { PrivatePort: 9000, Type: "tcp" },
        { IP: "127.0.0.2", PrivatePort: 53, PublicPort: 5353, Type: "udp" },
      ]),
      [
        { label: "9000/tcp" },
        { label: "127.0.0.2:5353→53/udp" },
        { href: "http://127.0.0.1:8080/", label: "127.0.0.1:8080→3000/tcp" },
      ],
    );
  });

  test("the command to enter a container starts it first when it is not running", () => {
    assert.equal(
      enterCommand("berth", { Names: ["web"], Id: "x", State: "running" }),
      "berth exec -it web sh",
    );
    assert.equal(
      enterCommand("berth", { Names: ["web"], Id: "x", State: "exited" }),
      "berth start web && berth exec -it web sh",
    );
  });

  test("API answers are checked at the boundary", () => {
    assert.throws(() => decodeImageDetails({ Id: 3 }), /image inspect: Id: expected a string/);
    assert.throws(() => decodeContainers([{ Id: "x", Ports: [{ PrivatePort: "80" }] }]), /PrivatePort/);
    const [c] = decodeContainers([{ Id: "x", Names: ["/web"], State: "running", Ports: null, Mounts: null }]);
    assert.deepEqual(c?.Names, ["web"]);
    assert.deepEqual(
      decodeEvent({ Type: "container", Action: "start", Actor: { ID: "x", Attributes: { name: "web" } } }),
      {
        Type: "container",
        Action: "start",
        id: "x",
        name: "web",
      },
    );
  });
});
