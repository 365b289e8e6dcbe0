import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { canonicalJson, canonicalJsonString } from "./canonical-json.js";
import { parseDigest, sha256Digest } from "./digest.js";
import {
  checkLayerCount,
  describe as describeBlob,
  encodeImageConfig,
  encodeIndex,
  encodeManifest,
  type ImageConfig,
  type ImageManifest,
  MAX_DOCUMENT_BYTES,
  parseImageConfig,
  parseIndex,
  parseManifest,
  parseManifestOrIndex,
  selectManifest,
} from "./image.js";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1_SIGNED_MANIFEST,
  isLayerMediaType,
  layerCompression,
  layerMediaType,
  MEDIA_TYPES,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from "./media-types.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const D3 = `sha256:${"3".repeat(64)}`;

function bytes(v: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(v));
}

function expectInvalid(fn: () => unknown, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, "InvalidArgument"), `not an InvalidArgument error: ${String(err)}`);
    assert.ok(
      err.message.includes(fragment),
      `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`,
    );
    assert.ok(!err.message.includes("\n"), "messages are one line");
    return true;
  });
}

const OCI_MANIFEST_DOC = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: OCI_CONFIG, digest: D1, size: 100 },
  layers: [
    { mediaType: OCI_LAYER_TAR_GZIP, digest: D2, size: 2000 },
    { mediaType: OCI_LAYER_TAR_GZIP, digest: D3, size: 0, urls: ["https://example.invalid/x"] },
  ],
  annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
};

const DOCKER_MANIFEST_DOC = {
  schemaVersion: 2,
  mediaType: DOCKER_MANIFEST,
  config: { mediaType: DOCKER_CONFIG, size: 1457, digest: D1 },
  layers: [{ mediaType: DOCKER_LAYER_TAR_GZIP, size: 772788, digest: D2 }],
};

const INDEX_DOC = {
  schemaVersion: 2,
  mediaType: DOCKER_MANIFEST_LIST,
  manifests: [
    {
      mediaType: DOCKER_MANIFEST,
      digest: D1,
      size: 527,
      platform: { architecture: "arm", os: "linux", variant: "v7" },
    },
    { mediaType: DOCKER_MANIFEST, digest: D2, size: 527, platform: { architecture: "amd64", os: "linux" } },
    {
      mediaType: DOCKER_MANIFEST,
      digest: D3,
      size: 527,
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
    },
  ],
};

describe("parseManifest", () => {
  test("reads an OCI manifest", () => {
    const m = parseManifest(bytes(OCI_MANIFEST_DOC));
    assert.deepEqual(m, OCI_MANIFEST_DOC);
    assert.equal(m.layers[1]?.urls?.[0], "https://example.invalid/x");
  });

  test("reads a Docker schema 2 manifest, with the expected media type and Content-Type parameters", () => {
    const m = parseManifest(bytes(DOCKER_MANIFEST_DOC), {
      expectedMediaType: `${DOCKER_MANIFEST}; charset=utf-8`,
    });
    assert.equal(m.mediaType, DOCKER_MANIFEST);
    assert.equal(m.config.digest, D1);
    assert.equal(m.layers.length, 1);
  });

  test("reads an OCI manifest without mediaType, with subject, artifactType and inline data", () => {
    const data = Buffer.from("{}");
    const doc = {
      schemaVersion: 2,
      artifactType: "application/vnd.example+type",
      config: {
        mediaType: MEDIA_TYPES.ociEmpty,
        digest: sha256Digest(data),
        size: 2,
        data: data.toString("base64"),
      },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: D3, size: 10 },
    };
    const m = parseManifest(bytes(doc), { expectedMediaType: OCI_MANIFEST });
    assert.equal(m.mediaType, undefined);
    assert.equal(m.subject?.digest, D3);
    assert.equal(m.config.data, "e30=");
  });

  test("ignores unknown members", () => {
    const m = parseManifest(bytes({ ...OCI_MANIFEST_DOC, extra: { x: 1 } }));
    assert.equal("extra" in m, false);
  });

  const bad: [string, () => unknown, string][] = [
    [
      "too large",
      () => parseManifest(bytes(OCI_MANIFEST_DOC), { maxBytes: 100 }),
      "exceeds the limit of 100 bytes",
    ],
    ["not UTF-8", () => parseManifest(Uint8Array.from([0x7b, 0xff, 0x7d])), "not valid UTF-8"],
    [
      "a byte-order mark",
      () => parseManifest(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(OCI_MANIFEST_DOC)])),
      "not valid JSON",
    ],
    ["not JSON", () => parseManifest(Buffer.from("{schemaVersion: 2}")), "not valid JSON"],
    ["a JSON array", () => parseManifest(bytes([OCI_MANIFEST_DOC])), "expected an object"],
    ["JSON null", () => parseManifest(Buffer.from("null")), "expected an object"],
    [
      "schema 1 by version",
      () => parseManifest(bytes({ schemaVersion: 1, name: "x", tag: "y" })),
      "schema 1 manifests are not supported",
    ],
    [
      "schema 1 by fsLayers",
      () => parseManifest(bytes({ schemaVersion: 2, fsLayers: [] })),
      "schema 1 manifests are not supported",
    ],
    [
      "schema 1 by expected media type",
      () => parseManifest(bytes(OCI_MANIFEST_DOC), { expectedMediaType: DOCKER_SCHEMA1_SIGNED_MANIFEST }),
      "schema 1 manifests are not supported",
    ],
    [
      "schema 1 by body media type",
      () => parseManifest(bytes({ ...DOCKER_MANIFEST_DOC, mediaType: DOCKER_SCHEMA1_SIGNED_MANIFEST })),
      "schema 1 manifests are not supported",
    ],
    [
      "both manifests and layers",
      () =>
        parseManifest(bytes({ ...OCI_MANIFEST_DOC, mediaType: undefined, manifests: INDEX_DOC.manifests })),
      "both manifests and layers",
    ],
    [
      "both manifests and config, read as an index",
      () => parseIndex(bytes({ ...INDEX_DOC, config: OCI_MANIFEST_DOC.config })),
      "both manifests and layers",
    ],
    [
      "body media type contradicting the expected one",
      () => parseManifest(bytes(OCI_MANIFEST_DOC), { expectedMediaType: DOCKER_MANIFEST }),
      `"${OCI_MANIFEST}" contradicts the expected "${DOCKER_MANIFEST}"`,
    ],
    [
      "index media type in the body",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, mediaType: OCI_INDEX })),
      "expected index but found manifest",
    ],
    ["an index", () => parseManifest(bytes(INDEX_DOC)), "expected manifest but found index"],
    [
      "an index shape under a manifest media type",
      () => parseManifest(bytes({ schemaVersion: 2, manifests: [] }), { expectedMediaType: OCI_MANIFEST }),
      "expected manifest but found index",
    ],
    [
      "an unsupported expected media type",
      () =>
        parseManifest(bytes(OCI_MANIFEST_DOC), {
          expectedMediaType: "application/vnd.oci.artifact.manifest.v1+json",
        }),
      "unsupported manifest media type",
    ],
    [
      "an unsupported body media type",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, mediaType: "text/plain" })),
      "unsupported manifest media type",
    ],
    [
      "a member differing only by case (Go would read it)",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, Manifests: [] })),
      "Manifests: member name differs from manifests only by case",
    ],
    [
      "no schemaVersion",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, schemaVersion: undefined })),
      "schemaVersion: expected 2",
    ],
    [
      "schemaVersion 3",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, schemaVersion: 3 })),
      "schemaVersion: expected 2",
    ],
    [
      "neither layers nor manifests",
      () => parseManifest(bytes({ schemaVersion: 2 })),
      "neither manifests nor layers",
    ],
    [
      "no config",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, config: undefined })),
      "config: expected an object",
    ],
    [
      "layers not an array",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, layers: {} })),
      "layers: expected an array",
    ],
    [
      "a bad layer digest",
      () =>
        parseManifest(
          bytes({
            ...OCI_MANIFEST_DOC,
            layers: [{ mediaType: OCI_LAYER_TAR_GZIP, digest: "sha256:abc", size: 1 }],
          }),
        ),
      "layers[0].digest: invalid checksum digest length",
    ],
    [
      "an unsupported digest algorithm",
      () =>
        parseManifest(
          bytes({
            ...OCI_MANIFEST_DOC,
            config: { mediaType: OCI_CONFIG, digest: `sha512:${"a".repeat(128)}`, size: 1 },
          }),
        ),
      "config.digest: unsupported digest algorithm",
    ],
    [
      "a negative size",
      () =>
        parseManifest(
          bytes({ ...OCI_MANIFEST_DOC, config: { mediaType: OCI_CONFIG, digest: D1, size: -1 } }),
        ),
      "config.size: expected a non-negative integer",
    ],
    [
      "a fractional size",
      () =>
        parseManifest(
          bytes({ ...OCI_MANIFEST_DOC, config: { mediaType: OCI_CONFIG, digest: D1, size: 1.5 } }),
        ),
      "config.size: expected a non-negative integer",
    ],
    [
      "a size beyond 2^53",
      () =>
        parseManifest(
          Buffer.from(JSON.stringify(OCI_MANIFEST_DOC).replace('"size":100', '"size":18446744073709551616')),
        ),
      "config.size: expected a non-negative integer",
    ],
    [
      "a size as a string",
      () =>
        parseManifest(
          bytes({ ...OCI_MANIFEST_DOC, config: { mediaType: OCI_CONFIG, digest: D1, size: "1" } }),
        ),
      "config.size: expected a non-negative integer",
    ],
    [
      "a descriptor without mediaType",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, config: { digest: D1, size: 1 } })),
      "config.mediaType: expected a string",
    ],
    [
      "a non-string annotation",
      () => parseManifest(bytes({ ...OCI_MANIFEST_DOC, annotations: { a: 1 } })),
      "annotations.a: expected a string",
    ],
    [
      "inline data not matching the digest",
      () =>
        parseManifest(
          bytes({
            ...OCI_MANIFEST_DOC,
            config: { mediaType: OCI_CONFIG, digest: D1, size: 2, data: "e30=" },
          }),
        ),
      "config.data: does not match",
    ],
    [
      "inline data that is not base64",
      () =>
        parseManifest(
          bytes({ ...OCI_MANIFEST_DOC, config: { mediaType: OCI_CONFIG, digest: D1, size: 2, data: "e30" } }),
        ),
      "config.data: expected base64",
    ],
    [
      "a platform without os",
      () =>
        parseIndex(
          bytes({
            ...INDEX_DOC,
            manifests: [
              { mediaType: DOCKER_MANIFEST, digest: D1, size: 1, platform: { architecture: "amd64" } },
            ],
          }),
        ),
      "manifests[0].platform.os: expected a string",
    ],
  ];
  for (const [name, fn, fragment] of bad) {
    test(`rejects ${name}`, () => expectInvalid(fn, fragment));
  }

  test("the default bound is containerd's 4 * 1048 * 1048 bytes", () => {
    assert.equal(MAX_DOCUMENT_BYTES, 4_393_216);
    const padded = Buffer.from(JSON.stringify({ ...OCI_MANIFEST_DOC, pad: "x".repeat(MAX_DOCUMENT_BYTES) }));
    expectInvalid(() => parseManifest(padded), `exceeds the limit of ${MAX_DOCUMENT_BYTES} bytes`);
  });
});

describe("parseIndex and parseManifestOrIndex", () => {
  test("reads a Docker manifest list with platforms", () => {
    const i = parseIndex(bytes(INDEX_DOC), { expectedMediaType: DOCKER_MANIFEST_LIST });
    assert.deepEqual(i, INDEX_DOC);
  });

  test("parseIndex refuses a manifest", () => {
    expectInvalid(() => parseIndex(bytes(OCI_MANIFEST_DOC)), "expected index but found manifest");
    expectInvalid(
      () => parseIndex(bytes({ schemaVersion: 2, layers: [] }), { expectedMediaType: OCI_INDEX }),
      "expected index but found manifest",
    );
  });

  test("decides by expected media type, then body mediaType, then shape", () => {
    const byExpected = parseManifestOrIndex(bytes({ ...INDEX_DOC, mediaType: undefined }), {
      expectedMediaType: OCI_INDEX,
    });
    assert.equal(byExpected.kind, "index");
    assert.equal(byExpected.mediaType, OCI_INDEX);
    const byBody = parseManifestOrIndex(bytes(DOCKER_MANIFEST_DOC));
    assert.equal(byBody.kind, "manifest");
    assert.equal(byBody.mediaType, DOCKER_MANIFEST);
    const byShape = parseManifestOrIndex(bytes({ schemaVersion: 2, manifests: [] }));
    assert.deepEqual(byShape, {
      kind: "index",
      mediaType: OCI_INDEX,
      index: { schemaVersion: 2, manifests: [] },
    });
    const manifestByShape = parseManifestOrIndex(bytes({ ...OCI_MANIFEST_DOC, mediaType: undefined }));
    assert.equal(manifestByShape.kind, "manifest");
    assert.equal(manifestByShape.mediaType, OCI_MANIFEST);
  });

  test("refuses the CVE-2021-41190 ambiguous document", () => {
    const doc = {
      schemaVersion: 2,
      manifests: INDEX_DOC.manifests,
      config: OCI_MANIFEST_DOC.config,
      layers: [],
    };
    expectInvalid(() => parseManifestOrIndex(bytes(doc)), "both manifests and layers");
  });

  test("selectManifest picks the best platform, skipping entries without one", () => {
    const i = parseIndex(bytes(INDEX_DOC));
    assert.equal(selectManifest(i, { os: "linux", architecture: "amd64" })?.digest, D2);
    assert.equal(selectManifest(i, { os: "linux", architecture: "aarch64" })?.digest, D3);
    assert.equal(selectManifest(i, { os: "linux", architecture: "arm", variant: "v8" })?.digest, D1);
    assert.equal(selectManifest(i, { os: "linux", architecture: "s390x" }), undefined);
    const withAttestation = parseIndex(
      bytes({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: D1,
            size: 1,
            platform: { architecture: "unknown", os: "unknown" },
          },
          { mediaType: OCI_MANIFEST, digest: D2, size: 1 },
          { mediaType: OCI_MANIFEST, digest: D3, size: 1, platform: { architecture: "386", os: "linux" } },
        ],
      }),
    );
    assert.equal(selectManifest(withAttestation, { os: "linux", architecture: "amd64" })?.digest, D3);
  });
});

const DOCKER_CONFIG_DOC = {
  architecture: "amd64",
  config: {
    Hostname: "",
    User: "",
    AttachStdin: false,
    ExposedPorts: { "80/tcp": {} },
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    Cmd: ["sh"],
    Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 30000000000, Retries: 3 },
    Image: "sha256:abc",
    Volumes: null,
    WorkingDir: "",
    Entrypoint: null,
    OnBuild: null,
    Labels: { b: "2", a: "1" },
    StopSignal: "SIGQUIT",
  },
  container: "f00",
  container_config: { Cmd: '/bin/sh -c #(nop) CMD ["sh"]' },
  created: "2023-05-19T20:19:24.460449133Z",
  docker_version: "20.10.23",
  history: [
    { created: "2023-05-19T20:19:24.3Z", created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
    {
      created: "2023-05-19T20:19:24.4+02:00",
      created_by: '/bin/sh -c #(nop)  CMD ["sh"]',
      empty_layer: true,
    },
  ],
  os: "linux",
  rootfs: { type: "layers", diff_ids: [D1] },
};

describe("parseImageConfig", () => {
  test("reads a Docker config: nulls are absent, a string Cmd is one element, unknown members dropped", () => {
    const c = parseImageConfig(bytes(DOCKER_CONFIG_DOC));
    assert.equal(c.architecture, "amd64");
    assert.equal(c.os, "linux");
    assert.deepEqual(c.rootfs, { type: "layers", diff_ids: [D1] });
    assert.deepEqual(c.config, {
      User: "",
      ExposedPorts: { "80/tcp": {} },
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["sh"],
      Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 30000000000, Retries: 3 },
      WorkingDir: "",
      Labels: { b: "2", a: "1" },
      StopSignal: "SIGQUIT",
    });
    assert.deepEqual(c.container_config, { Cmd: ['/bin/sh -c #(nop) CMD ["sh"]'] });
    assert.equal(c.created, "2023-05-19T20:19:24.460449133Z");
    assert.equal(c.history?.[1]?.empty_layer, true);
    assert.equal(c.docker_version, "20.10.23");
  });

  test("reads a minimal OCI config", () => {
    const c = parseImageConfig(
      bytes({ architecture: "arm64", os: "linux", variant: "v8", rootfs: { type: "layers", diff_ids: [] } }),
    );
    assert.deepEqual(c, {
      architecture: "arm64",
      os: "linux",
      variant: "v8",
      rootfs: { type: "layers", diff_ids: [] },
    });
  });

  test("a label named __proto__ stays a label", () => {
    const text =
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"__proto__":"x"}}}';
    const c = parseImageConfig(Buffer.from(text));
    assert.deepEqual(Object.keys(c.config?.Labels ?? {}), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(c.config?.Labels), Object.prototype);
  });

  const minimal = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [D1] } };
  const bad: [string, unknown, string][] = [
    ["no rootfs", { architecture: "amd64", os: "linux" }, "rootfs: expected an object"],
    [
      "a wrong rootfs type",
      { ...minimal, rootfs: { type: "tar", diff_ids: [] } },
      'rootfs.type: expected "layers"',
    ],
    ["no diff_ids", { ...minimal, rootfs: { type: "layers" } }, "rootfs.diff_ids: expected an array"],
    [
      "a bad diff_id",
      { ...minimal, rootfs: { type: "layers", diff_ids: ["sha256:xyz"] } },
      "rootfs.diff_ids[0]: invalid checksum digest length",
    ],
    ["no architecture", { os: "linux", rootfs: minimal.rootfs }, "architecture: expected a string"],
    ["a numeric os", { ...minimal, os: 1 }, "os: expected a string"],
    ["Env not an array", { ...minimal, config: { Env: "A=1" } }, "config.Env: expected an array"],
    ["a numeric Env entry", { ...minimal, config: { Env: ["A=1", 2] } }, "config.Env[1]: expected a string"],
    ["a numeric Cmd entry", { ...minimal, config: { Cmd: [1] } }, "config.Cmd[0]: expected a string"],
    [
      "an ExposedPorts value that is no object",
      { ...minimal, config: { ExposedPorts: { "80/tcp": 1 } } },
      "config.ExposedPorts.80/tcp: expected an object",
    ],
    ["a numeric label", { ...minimal, config: { Labels: { a: 1 } } }, "config.Labels.a: expected a string"],
    [
      "a fractional Retries",
      { ...minimal, config: { Healthcheck: { Retries: 1.5 } } },
      "config.Healthcheck.Retries: expected an integer",
    ],
    [
      "a string ArgsEscaped",
      { ...minimal, config: { ArgsEscaped: "true" } },
      "config.ArgsEscaped: expected a boolean",
    ],
    ["a bad created time", { ...minimal, created: "yesterday" }, "created: expected an RFC 3339 time"],
    ["history not an array", { ...minimal, history: {} }, "history: expected an array"],
    [
      "a bad history time",
      { ...minimal, history: [{ created: "2023-05-19 20:19:24" }] },
      "history[0].created: expected an RFC 3339 time",
    ],
    ["config not an object", { ...minimal, config: [] }, "config: expected an object"],
  ];
  for (const [name, doc, fragment] of bad) {
    test(`rejects ${name}`, () =>
      expectInvalid(() => parseImageConfig(bytes(doc)), `invalid image config: ${fragment}`));
  }

  test("is bounded", () => {
    expectInvalid(() => parseImageConfig(bytes(minimal), { maxBytes: 10 }), "exceeds the limit of 10 bytes");
  });
});

describe("layerCompression", () => {
  const cases: [string, string][] = [
    ["application/vnd.oci.image.layer.v1.tar", "none"],
    ["application/vnd.oci.image.layer.v1.tar+gzip", "gzip"],
    ["application/vnd.oci.image.layer.v1.tar+zstd", "zstd"],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"],
    ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"],
    ["application/vnd.docker.image.rootfs.diff.tar", "none"],
  ];
  for (const [mediaType, compression] of cases) {
    test(`${mediaType} → ${compression}`, () => {
      assert.equal(layerCompression(mediaType), compression);
      assert.equal(isLayerMediaType(mediaType), true);
    });
  }
  for (const unknown of [
    "application/vnd.oci.image.layer.v1.tar+bzip2",
    OCI_CONFIG,
    "",
    "toString",
    "__proto__",
  ]) {
    test(`throws for ${JSON.stringify(unknown)}`, () => {
      expectInvalid(() => layerCompression(unknown), "unsupported layer media type");
      assert.equal(isLayerMediaType(unknown), false);
    });
  }
  test("layerMediaType is the inverse for each family", () => {
    assert.equal(layerMediaType("gzip"), OCI_LAYER_TAR_GZIP);
    assert.equal(layerMediaType("gzip", "docker"), DOCKER_LAYER_TAR_GZIP);
    for (const c of ["none", "gzip", "zstd"] as const) assert.equal(layerCompression(layerMediaType(c)), c);
  });
});

describe("canonical JSON and encoders", () => {
  test("canonicalJson: no whitespace, insertion order, undefined omitted, Go escapes", () => {
    assert.equal(
      canonicalJsonString({ b: 1, a: [true, null, "x<y>&z\u2028"], u: undefined, n: { z: "", y: -1.5 } }),
      '{"b":1,"a":[true,null,"x\\u003cy\\u003e\\u0026z\\u2028"],"n":{"z":"","y":-1.5}}',
    );
    assert.deepEqual(Buffer.from(canonicalJson("é")), Buffer.from('"é"'));
    assert.throws(() => canonicalJson(Number.NaN), TypeError);
  });

  const config: ImageConfig = {
    architecture: "amd64",
    config: {
      Env: ["PATH=/bin"],
      Cmd: ["sh", "-c", "a && b"],
      Labels: { z: "1", "10": "x", "9": "y", a: "2" },
      ExposedPorts: { "443/tcp": {}, "80/tcp": {} },
      WorkingDir: "/",
    },
    created: "2024-01-01T00:00:00Z",
    history: [{ created: "2024-01-01T00:00:00Z", created_by: "CMD", empty_layer: true }],
    os: "linux",
    rootfs: { type: "layers", diff_ids: [parseDigest(D1)] },
  };

  test("encodeImageConfig writes the exact bytes, in our order, with maps sorted", () => {
    const text = Buffer.from(encodeImageConfig(config)).toString("utf8");
    assert.equal(
      text,
      '{"architecture":"amd64","config":{"ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Env":["PATH=/bin"],' +
        '"Cmd":["sh","-c","a \\u0026\\u0026 b"],"WorkingDir":"/","Labels":{"10":"x","9":"y","a":"2","z":"1"}},' +
        '"created":"2024-01-01T00:00:00Z","history":[{"created":"2024-01-01T00:00:00Z","created_by":"CMD","empty_layer":true}],' +
        `"os":"linux","rootfs":{"type":"layers","diff_ids":["${D1}"]}}`,
    );
  });

  test("encodeImageConfig round-trips and is deterministic whatever the insertion order", () => {
    const encoded = encodeImageConfig(config);
    assert.deepEqual(parseImageConfig(encoded), config);
    const reordered: ImageConfig = {
      rootfs: config.rootfs,
      os: "linux",
      history: config.history,
      created: config.created,
      config: { WorkingDir: "/", ...config.config, Labels: { a: "2", "9": "y", z: "1", "10": "x" } },
      architecture: "amd64",
    };
    assert.equal(sha256Digest(encodeImageConfig(reordered)), sha256Digest(encoded));
  });

  test("encodeManifest and encodeIndex round-trip in OCI field order", () => {
    const m = parseManifest(bytes(DOCKER_MANIFEST_DOC));
    const text = Buffer.from(encodeManifest(m)).toString("utf8");
    assert.ok(
      text.startsWith(
        `{"schemaVersion":2,"mediaType":"${DOCKER_MANIFEST}","config":{"mediaType":"${DOCKER_CONFIG}","digest":"${D1}","size":1457}`,
      ),
    );
    assert.deepEqual(parseManifest(encodeManifest(m)), m);
    const i = parseIndex(bytes(INDEX_DOC));
    assert.deepEqual(parseIndex(encodeIndex(i)), i);
    assert.ok(
      Buffer.from(encodeIndex(i))
        .toString("utf8")
        .includes('"platform":{"architecture":"arm","os":"linux","variant":"v7"}'),
    );
  });

  test("describe gives digest and size of bytes", () => {
    const b = encodeImageConfig(config);
    assert.deepEqual(describeBlob(OCI_CONFIG, b), {
      mediaType: OCI_CONFIG,
      digest: sha256Digest(b),
      size: b.byteLength,
    });
  });

  test("checkLayerCount compares layers and diffIDs", () => {
    const m: ImageManifest = parseManifest(bytes(DOCKER_MANIFEST_DOC));
    checkLayerCount(m, config);
    expectInvalid(
      () => checkLayerCount(m, { ...config, rootfs: { type: "layers", diff_ids: [] } }),
      "number of layers and diffIDs don't match",
    );
  });
});
