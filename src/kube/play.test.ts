import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { cpuQuantity, memoryQuantity } from "./generate.js";
import { KUBE_NETWORK, parseQuantity, planPlay } from "./play.js";
import { parseManifests } from "./yaml.js";

test("quantities as Kubernetes writes them (resource.Quantity's suffixes)", () => {
  assert.equal(parseQuantity("512Mi", "q"), 512 * 1024 * 1024);
  assert.equal(parseQuantity("1G", "q"), 1e9);
  assert.equal(parseQuantity("500m", "q"), 0.5);
  assert.equal(parseQuantity("0.25", "q"), 0.25);
  assert.equal(parseQuantity("1e3", "q"), 1000);
  assert.equal(parseQuantity(2, "q"), 2);
  assert.throws(() => parseQuantity("12 MB", "q"), /not a Kubernetes quantity/);
  assert.equal(memoryQuantity(64 * 1024 * 1024), "64Mi");
  assert.equal(memoryQuantity(3 * 1024 ** 3), "3Gi");
  assert.equal(memoryQuantity(1000), "1000");
  assert.equal(cpuQuantity(5e8), "500m");
  assert.equal(cpuQuantity(2e9), "2");
});

const plan = (text: string) => planPlay(parseManifests(text, "t.yaml"));

test("a Deployment's replicas become pods; a Service's name is an alias and its ports the first replica's", () => {
  const p = plan(`apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: main
          image: busybox
          command: [sleep]
          ports: [{containerPort: 80, name: web}]
          resources: {limits: {memory: 64Mi, cpu: 250m}, requests: {cpu: "0.5"}}
---
apiVersion: v1
kind: Service
metadata: {name: api-svc}
spec:
  type: NodePort
  selector: {app: api}
  ports: [{port: 8080, targetPort: web, nodePort: 30080}]
`);
  assert.deepEqual(
    p.pods.map((x) => x.name),
    ["api-0", "api-1", "api-2"],
  );
  const [first, second] = p.pods;
  assert.deepEqual(first?.aliases, ["api-0", "api-svc"]);
  assert.deepEqual(first?.portBindings, { "80/tcp": [{ HostPort: "30080" }] });
  assert.deepEqual(second?.portBindings, {});
  const c = first?.containers[0];
  assert.equal(c?.name, "api-0-main");
  assert.deepEqual(c?.entrypoint, ["sleep"]);
  // A command without args drops the image's CMD, as in Kubernetes.
  assert.deepEqual(c?.cmd, []);
  assert.equal(c?.hostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(c?.hostConfig.NanoCpus, 250_000_000);
  assert.equal(c?.hostConfig.CpuShares, 512);
  assert.deepEqual(first?.restartPolicy, { Name: "always" });
  assert.match(p.warnings.join("\n"), /3 replicas run as 3 pods/);
  assert.equal(KUBE_NETWORK, "berth-kube");
});

test("ConfigMaps and Secrets become files and environment; PVCs named volumes", () => {
  const p = plan(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a.conf: "x=1\\n", MODE: prod}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {TOKEN: c2VjcmV0}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  restartPolicy: OnFailure
  containers:
    - name: c
      image: busybox
      envFrom: [{configMapRef: {name: cfg}, prefix: CFG_}]
      env: [{name: T, valueFrom: {secretKeyRef: {name: sec, key: TOKEN}}}]
      volumeMounts: [{name: conf, mountPath: /etc/app}, {name: db, mountPath: /var/db}, {name: scratch, mountPath: /tmp}]
  volumes:
    - {name: conf, configMap: {name: cfg, items: [{key: a.conf, path: app/a.conf}]}}
    - {name: db, persistentVolumeClaim: {claimName: db-data}}
    - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
`);
  const pod = p.pods[0];
  assert.deepEqual(p.claims, ["db-data"]);
  assert.deepEqual(
    pod?.volumes.map((v) => v.name),
    ["p-conf"],
  );
  assert.equal(pod?.volumes[0]?.files?.get("app/a.conf")?.toString(), "x=1\n");
  const c = pod?.containers[0];
  assert.deepEqual(c?.env, ["CFG_a.conf=x=1\n", "CFG_MODE=prod", "T=secret"]);
  assert.deepEqual(c?.hostConfig.Mounts, [
    { Type: "volume", Source: "p-conf", Target: "/etc/app", ReadOnly: true },
    { Type: "volume", Source: "db-data", Target: "/var/db", ReadOnly: false },
    { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 1024 * 1024 } },
  ]);
  assert.deepEqual(pod?.restartPolicy, { Name: "on-failure" });
});

test("what berth cannot honour is an error naming it", () => {
  const refuse = (text: string, message: RegExp) =>
    assert.throws(
      () => plan(text),
      (err: unknown) => isBerthError(err, "InvalidArgument") && message.test(err.message),
    );
  refuse("apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n", /kind "Namespace" is not supported/);
  refuse(
    "apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n",
    /apiVersion "v1" is not supported for Deployment/,
  );
  refuse(
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: prod}\nspec: {containers: [{name: c, image: i}]}\n",
    /namespace prod is not supported/,
  );
  refuse(
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, env: [{name: X, valueFrom: {fieldRef: {fieldPath: a}}}]}]}\n",
    /valueFrom.fieldRef is not supported/,
  );
  refuse(
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, volumeMounts: [{name: nope, mountPath: /x}]}]}\n",
    /volumeMount nope names no volume/,
  );
  refuse(
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, livenessProbe: {httpGet: {port: 80}}}]}\n",
    /livenessProbe.httpGet is not supported/,
  );
  refuse(
    "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: i}]}\n",
    /not a valid Kubernetes name/,
  );
  assert.throws(() => parseManifests("a: [1,\n", "t.yaml"), /^.*t\.yaml:\d+: /);
});
