/**
 * `system df -v`, `system prune` (networks, filters, -a), `info`, `version --format` through the
 * real bin/berth, against Docker's documented behaviour.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

/** The lines of one `system df -v` section, from its header line to the blank line after it. */
function section(out: string, title: string): string[] {
  const start = out.indexOf(`${title}:\n\n`);
  assert.ok(start >= 0, `no "${title}" section in:\n${out}`);
  const rest = out.slice(start + title.length + 3);
  const end = rest.indexOf("\n\n");
  return (end < 0 ? rest : rest.slice(0, end)).split("\n").filter((l) => l !== "");
}

describe("system df -v", () => {
  test("lists images, containers and volumes in Docker's verbose tables", async () => {
    await store.ok(["volume", "create", "dfvol"]);
    await store.ok(["run", "--name", "dfbox", "-v", "dfvol:/d", "busybox", "sh", "-c", "echo hello > /d/f"]);
    const out = (await store.ok(["system", "df", "-v"])).stdout;
    const images = section(out, "Images space usage");
    assert.match(
      images[0] ?? "",
      /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS$/,
    );
    assert.ok(images.some((l) => /^busybox\s+latest\s+[0-9a-f]{12}\s/.test(l)));
    const containers = section(out, "Containers space usage");
    assert.match(
      containers[0] ?? "",
      /^CONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES$/,
    );
    const row = containers.find((l) => l.endsWith(" dfbox"));
    assert.ok(row, containers.join("\n"));
    assert.match(row, /^[0-9a-f]{12}\s+busybox\s+"sh -c echo hello > …"\s+1\s+\S+.*Exited \(0\)/);
    const volumes = section(out, "Local Volumes space usage");
    assert.match(volumes[0] ?? "", /^VOLUME NAME\s+LINKS\s+SIZE$/);
    assert.ok(
      volumes.some((l) => /^dfvol\s+1\s+6B$/.test(l)),
      volumes.join("\n"),
    );
    await store.ok(["rm", "dfbox"]);
    await store.ok(["volume", "rm", "dfvol"]);
  });
});

describe("system prune", () => {
  test("removes unused networks, keeps those in use, and prints them as Docker does", async () => {
    await store.ok(["network", "create", "unusednet"]);
    await store.ok(["network", "create", "usednet"]);
    await store.ok(["run", "-d", "--name", "onnet", "--network", "usednet", "busybox", "sleep", "60"]);
    const out = (await store.ok(["system", "prune", "-f"])).stdout;
    assert.match(out, /Deleted Networks:\nunusednet\n\n/);
    const nets = (await store.ok(["network", "ls", "--format", "{{.Name}}"])).stdout.split("\n");
    assert.ok(!nets.includes("unusednet"));
    assert.ok(nets.includes("usednet"));
    await store.ok(["rm", "-f", "onnet"]);
    await store.ok(["network", "rm", "usednet"]);
  });

  test("the confirmation names the networks, and N changes nothing", async () => {
    await store.ok(["network", "create", "keptnet"]);
    const r = await store.ok(["system", "prune"], { input: "n\n" });
    assert.match(r.stdout, / {2}- all networks not used by at least one container\n/);
    assert.ok(
      (await store.ok(["network", "ls", "--format", "{{.Name}}"])).stdout.split("\n").includes("keptnet"),
    );
    await store.ok(["network", "rm", "keptnet"]);
  });

  test("--filter label=… touches only containers, networks and images that match", async () => {
    await store.ok(["network", "create", "--label", "env=test", "labelednet"]);
    await store.ok(["network", "create", "plainnet"]);
    await store.ok(["create", "--name", "labeledbox", "-l", "env=test", "busybox"]);
    await store.ok(["create", "--name", "plainbox", "busybox"]);
    const out = (await store.ok(["system", "prune", "-f", "--filter", "label=env=test"])).stdout;
    assert.match(out, /Deleted Containers:\n[0-9a-f]{64}\n\n/);
    assert.match(out, /Deleted Networks:\nlabelednet\n\n/);
    const names = (await store.ok(["ps", "-a", "--format", "{{.Names}}"])).stdout.split("\n");
    assert.ok(names.includes("plainbox") && !names.includes("labeledbox"));
    const nets = (await store.ok(["network", "ls", "--format", "{{.Name}}"])).stdout.split("\n");
    assert.ok(nets.includes("plainnet") && !nets.includes("labelednet"));
    assert.equal((await store.ok(["images", "-q", "busybox"])).stdout.length > 0, true);
    const bad = await store.berth(["system", "prune", "-f", "--filter", "bogus=1"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'bogus'/);
    await store.ok(["rm", "plainbox"]);
    await store.ok(["network", "rm", "plainnet"]);
  });

  test("-a removes every unused image, parents of removed images too", async () => {
    await store.ok(["run", "--name", "p1", "busybox", "sh", "-c", "echo 1 > /one"]);
    await store.ok(["commit", "p1", "prune-child:1"]);
    await store.ok(["run", "--name", "p2", "prune-child:1", "sh", "-c", "echo 2 > /two"]);
    await store.ok(["commit", "p2", "prune-grandchild:1"]);
    await store.ok(["rm", "p1", "p2"]);
    const out = (await store.ok(["system", "prune", "-af"])).stdout;
    assert.match(out, /untagged: prune-grandchild:1\n/);
    assert.match(out, /untagged: prune-child:1\n/);
    assert.match(out, /untagged: busybox:latest\n/);
    assert.equal((await store.ok(["images", "-aq"])).stdout, "");
    await store.busybox();
  });
});
