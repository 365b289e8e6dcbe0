/**
 * `kube generate` and `kube play` through the real bin/berth: generated YAML checked by the
 * Kubernetes API's own JSON schemas (npm's kubernetes-models, offline) for several container
 * shapes; hand-written manifests (a Deployment of two replicas, a Service, a PVC, a ConfigMap)
 * served over 127.0.0.1; a generate → play round trip on an empty store; `--down` leaving nothing.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { Deployment } from "kubernetes-models/apps/v1";
import { PersistentVolumeClaim, Pod, Service } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";
import { Store } from "./harness.js";
import { freePort } from "./registry-helpers.js";

let a: Store;
let b: Store;

before(async () => {
  a = await Store.create();
  b = await Store.create();
  await a.busybox();
  await b.busybox();
});
after(async () => {
  await a?.cleanup();
  await b?.cleanup();
});

/** Every document, checked against the Kubernetes schema of its kind. */
function validate(
  yamlText: string,
): Array<{ kind: string; metadata: { name: string } } & Record<string, unknown>> {
  const docs = parseAllDocuments(yamlText).map(
    (d) => d.toJS() as { kind: string; metadata: { name: string } },
  );
  for (const d of docs) {
    const model =
      d.kind === "Pod"
        ? new Pod(d as never)
        : d.kind === "Deployment"
          ? new Deployment(d as never)
          : d.kind === "Service"
            ? new Service(d as never)
            : d.kind === "PersistentVolumeClaim"
              ? new PersistentVolumeClaim(d as never)
              : undefined;
    assert.ok(model, `unexpected kind ${d.kind}`);
    model.validate();
  }
  return docs;
}

async function get(port: number, path = "/"): Promise<string> {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
      return await res.text();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`127.0.0.1:${port}${path} never answered: ${String(last)}`);
}

describe("kube generate", () => {
  test("a pod of a network's containers validates and carries what they have", async () => {
    const port = await freePort();
    await a.ok(["network", "create", "gen-net"]);
    await a.ok(["volume", "create", "gen-data"]);
    await a.ok([
      "run",
      "-d",
      "--name",
      "gen-web",
      "--network",
      "gen-net",
      "-p",
      `${port}:80`,
      "-e",
      "MODE=prod",
      "-v",
      "gen-data:/data",
      "--memory",
      "64m",
      "--cpus",
      "0.5",
      "--cap-add",
      "NET_ADMIN",
      "--cap-drop",
      "MKNOD",
      "--read-only",
      "--tmpfs",
      "/run:size=8m",
      "--restart",
      "always",
      "-w",
      "/data",
      "-l",
      "tier=front",
      "busybox",
      "httpd",
      "-f",
      "-p",
      "80",
    ]);
    await a.ok([
      "run",
      "-d",
      "--name",
      "gen-db",
      "--network",
      "gen-net",
      "-u",
      "1000:1000",
      "--dns",
      "127.0.0.9",
      "-v",
      `${a.dir}:/host:ro`,
      "busybox",
      "sleep",
      "600",
    ]);
    const r = await a.ok(["kube", "generate", "gen-net"]);
    const docs = validate(r.stdout);
    const pod = docs.find((d) => d.kind === "Pod") as unknown as Pod;
    assert.equal(pod.metadata?.name, "gen-net");
    const web = pod.spec?.containers.find((c) => c.name === "gen-web");
    assert.ok(web);
    assert.deepEqual(web.args, ["httpd", "-f", "-p", "80"]);
    assert.equal(web.workingDir, "/data");
    assert.deepEqual(web.env, [{ name: "MODE", value: "prod" }]);
    assert.deepEqual(web.ports, [{ containerPort: 80, protocol: "TCP", hostPort: port }]);
    assert.deepEqual(web.resources?.limits, { memory: "64Mi", cpu: "500m" });
    assert.deepEqual(web.securityContext?.capabilities, { add: ["NET_ADMIN"], drop: ["MKNOD"] });
    assert.equal(web.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(pod.spec?.restartPolicy, "Always");
    assert.equal(pod.metadata?.labels?.tier, "front");
    const db = pod.spec?.containers.find((c) => c.name === "gen-db");
    assert.equal(db?.securityContext?.runAsUser, 1000);
    assert.equal(db?.securityContext?.runAsGroup, 1000);
    const vols = pod.spec?.volumes ?? [];
    assert.ok(vols.some((v) => v.persistentVolumeClaim?.claimName === "gen-data"));
    assert.ok(vols.some((v) => v.hostPath?.path === a.dir));
    assert.ok(vols.some((v) => v.emptyDir?.medium === "Memory" && v.emptyDir.sizeLimit === "8Mi"));
    assert.ok(docs.some((d) => d.kind === "PersistentVolumeClaim" && d.metadata.name === "gen-data"));
    // What Kubernetes cannot carry is said, not dropped.
    assert.match(r.stderr, /gen-db: --dns has no Kubernetes equivalent/);
  });

  test("deployments with services, a healthcheck as a liveness probe", async () => {
    await a.ok([
      "run",
      "-d",
      "--name",
      "gen-api",
      "--expose",
      "8080",
      "--restart",
      "on-failure:3",
      "busybox",
      "sleep",
      "600",
    ]);
    const r = await a.ok(["kube", "generate", "-s", "--type", "deployment", "gen-api", "gen-web"]);
    const docs = validate(r.stdout);
    assert.deepEqual(
      docs.map((d) => `${d.kind}/${d.metadata.name}`),
      [
        "Deployment/gen-api",
        "Service/gen-api",
        "Deployment/gen-web",
        "Service/gen-web",
        "PersistentVolumeClaim/gen-data",
      ],
    );
    const svc = docs.find((d) => d.kind === "Service" && d.metadata.name === "gen-web") as unknown as Service;
    assert.equal(svc.spec?.type, "NodePort");
    const api = docs.find((d) => d.kind === "Service" && d.metadata.name === "gen-api") as unknown as Service;
    assert.equal(api.spec?.type, "ClusterIP");
    assert.match(r.stderr, /gen-api: on-failure's retry limit 3/);
    assert.match(r.stderr, /gen-api: restart policy becomes Always/);
  });

  test("an unknown name is one error line and no output", async () => {
    const r = await a.berth(["kube", "generate", "no-such-thing"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /No such container or network: no-such-thing/);
  });
});

describe("kube play", () => {
  test("a Deployment of two replicas, a Service, a PVC and a ConfigMap serve over 127.0.0.1; --down leaves nothing", async () => {
    const port = await freePort();
    const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: site
data:
  index.html: "hello from a configmap\\n"
  GREETING: hi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: web-data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: httpd
          image: busybox
          command: [httpd, -f, -p, "8080", -h, /www]
          env:
            - name: GREETING
              valueFrom:
                configMapKeyRef: {name: site, key: GREETING}
          ports:
            - containerPort: 8080
              name: http
          volumeMounts:
            - {name: site, mountPath: /www}
            - {name: data, mountPath: /data}
      volumes:
        - name: site
          configMap: {name: site}
        - name: data
          persistentVolumeClaim: {claimName: web-data}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
    - port: ${port}
      targetPort: http
`;
    const file = b.path("app.yaml");
    await writeFile(file, manifest);
    const before = {
      images: (await b.ok(["images", "-q"])).stdout,
      volumes: (await b.ok(["volume", "ls", "-q"])).stdout,
      networks: (await b.ok(["network", "ls", "-q"])).stdout,
    };
    const up = await b.ok(["kube", "play", file]);
    assert.match(up.stdout, /Pod:\nweb-0\n/);
    assert.match(up.stdout, /Pod:\nweb-1\n/);
    assert.match(up.stderr, /2 replicas run as 2 pods/);
    assert.equal(await get(port, "/index.html"), "hello from a configmap\n");
    const names = (await b.ok(["ps", "--format", "{{.Names}}"])).stdout.split("\n").filter(Boolean).sort();
    assert.deepEqual(names, ["web-0-httpd", "web-0-infra", "web-1-httpd", "web-1-infra"]);
    // The env from the ConfigMap, the claim as a named volume shared by the replicas.
    assert.equal((await b.ok(["exec", "web-1-httpd", "sh", "-c", "echo $GREETING"])).stdout, "hi\n");
    await b.ok(["exec", "web-0-httpd", "sh", "-c", "echo kept > /data/f"]);
    assert.equal((await b.ok(["exec", "web-1-httpd", "cat", "/data/f"])).stdout, "kept\n");
    // A pod's containers share its network namespace; pods find each other by Service name.
    assert.equal(
      (await b.ok(["exec", "web-0-httpd", "wget", "-qO-", "http://localhost:8080/index.html"])).stdout,
      "hello from a configmap\n",
    );
    assert.equal(
      (await b.ok(["exec", "web-1-httpd", "wget", "-qO-", "http://web:8080/index.html"])).stdout,
      "hello from a configmap\n",
    );
    // Playing it again is refused while it runs.
    const again = await b.berth(["kube", "play", file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /pod web-0 already exists/);

    const down = await b.ok(["kube", "play", "--down", file]);
    assert.match(down.stdout, /Pods removed:\nweb-0\nweb-1\n/);
    assert.equal((await b.ok(["ps", "-aq"])).stdout, "");
    assert.equal((await b.ok(["images", "-q"])).stdout, before.images);
    assert.equal((await b.ok(["volume", "ls", "-q"])).stdout, before.volumes);
    assert.equal((await b.ok(["network", "ls", "-q"])).stdout, before.networks);
  });

  test("the tutorial-shaped app round-trips: generate on one store, play on an empty one", async () => {
    const port = await freePort();
    await a.ok(["volume", "create", "rt-data"]);
    await a.ok(["run", "--rm", "-v", "rt-data:/d", "busybox", "sh", "-c", "echo round-trip > /d/index.html"]);
    await a.ok([
      "run",
      "-d",
      "--name",
      "rt-web",
      "-p",
      `${port}:80`,
      "-v",
      "rt-data:/d",
      "busybox",
      "httpd",
      "-f",
      "-p",
      "80",
      "-h",
      "/d",
    ]);
    assert.equal(await get(port, "/index.html"), "round-trip\n");
    const yaml = (await a.ok(["kube", "generate", "rt-web"])).stdout;
    validate(yaml);
    await a.ok(["rm", "-f", "rt-web"]);
    const file = b.path("rt.yaml");
    await writeFile(file, yaml);
    await b.ok(["kube", "play", file]);
    // The named volume is new on this store, so it is empty: put the page in, then it serves.
    await b.ok(["exec", "rt-web-pod-rt-web", "sh", "-c", "echo round-trip > /d/index.html"]);
    assert.equal(await get(port, "/index.html"), "round-trip\n");
    await b.ok(["kube", "play", "--down", file]);
    assert.equal((await b.ok(["ps", "-aq"])).stdout, "");
    assert.equal((await b.ok(["volume", "ls", "-q"])).stdout, "");
  });

  test("unsupported kinds and fields are errors naming them, and nothing is created", async () => {
    const cases: Array<[string, RegExp]> = [
      ["apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n", /kind "Job" is not supported/],
      [
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}]\n  affinity: {}\n",
        /Pod p: spec.affinity is not supported/,
      ],
      [
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: busybox\n      readinessProbe: {exec: {command: [true]}}\n",
        /spec.containers\[0\].readinessProbe is not supported/,
      ],
      [
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: busybox\n      resources: {limits: {memory: lots}}\n",
        /"lots" is not a Kubernetes quantity/,
      ],
      ["apiVersion: v1\nkind: Pod\nmetadata: {name: p\n", /bad.yaml:\d+: /],
    ];
    for (const [text, message] of cases) {
      const file = b.path("bad.yaml");
      await writeFile(file, text);
      const r = await b.berth(["kube", "play", file]);
      assert.equal(r.code, 1, text);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.equal((await b.ok(["ps", "-aq"])).stdout, "");
  });
});
