/**
 * `system df -v`, `system prune` (networks, filters, -a), `info`, `version --format` through the
 * real bin/berth, against Docker's documented behaviour.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
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

describe("info and version", () => {
  test("info prints Docker's sections; --format renders the API's SystemInfo fields", async () => {
    await store.busybox();
    await store.ok(["run", "-d", "--name", "infobox", "busybox", "sleep", "60"]);
    await store.ok(["create", "--name", "infostopped", "busybox"]);
    const text = await store.ok(["info"]);
    assert.match(text.stdout, /^Client:\n Version: {4}\S+\n Context: {4}default\n/);
    assert.match(
      text.stdout,
      /\nServer:\n Containers: 2\n {2}Running: 1\n {2}Paused: 0\n {2}Stopped: 1\n Images: 1\n/,
    );
    assert.match(text.stdout, / Storage Driver: overlay\n/);
    assert.match(text.stdout, / Cgroup Version: [12]\n/);
    assert.match(
      text.stdout,
      new RegExp(` Docker Root Dir: ${store.root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`),
    );
    const fmt = await store.ok([
      "system",
      "info",
      "--format",
      "{{.Containers}} {{.ContainersRunning}} {{.Images}} {{.Driver}} {{.OSType}} {{.NCPU}} {{.Swarm.LocalNodeState}}",
    ]);
    assert.match(fmt.stdout, /^2 1 1 overlay linux \d+ inactive\n$/);
    const json = JSON.parse((await store.ok(["info", "--format", "{{json .}}"])).stdout) as Record<
      string,
      unknown
    >;
    for (const k of [
      "ID",
      "Containers",
      "MemTotal",
      "KernelVersion",
      "OperatingSystem",
      "ServerVersion",
      "DockerRootDir",
      "ClientInfo",
    ])
      assert.ok(k in json, `info has no ${k}`);
    await store.ok(["rm", "-f", "infobox", "infostopped"]);
  });

  test("version --format renders .Client and .Server", async () => {
    const r = await store.ok([
      "version",
      "--format",
      "{{.Client.Version}}|{{.Server.Version}}|{{.Server.ApiVersion}}|{{.Client.Os}}",
    ]);
    const [client, server, api, os] = r.stdout.trim().split("|");
    assert.ok(client && client === server, r.stdout);
    assert.match(api ?? "", /^1\.\d+$/);
    assert.equal(os, "linux");
    const json = JSON.parse((await store.ok(["version", "--format", "json"])).stdout) as {
      Client: unknown;
      Server: unknown;
    };
    assert.ok(json.Client && json.Server);
    const text = (await store.ok(["version"])).stdout;
    assert.match(text, /^Client:\n[\s\S]*\nServer: berth\n Engine:\n {2}Version: /);
    // The client's API version, then the engine's with its minimum (Docker's layout).
    assert.match(text, /^ API version: {7}1\.50\n/m);
    assert.match(text, /^ {2}API version: {6}1\.50 \(minimum version 1\.41\)\n/m);
  });
});

describe("stats", () => {
  test("streams a live table, redrawn every second, until Ctrl-C", async () => {
    await store.ok(["run", "-d", "--name", "statbox", "busybox", "sh", "-c", "sleep 300"]);
    const [cmd = "", ...argv] = store.argv(["stats", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}"]);
    const child = spawn(cmd, argv, {
      env: { ...process.env, ...store.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const frames = () => out.split("\x1b[2J\x1b[H").length - 1;
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString("utf8");
        if (frames() >= 3) resolve();
      });
      child.on("close", () => reject(new Error(`stats ended early: ${out}`)));
    });
    child.kill("SIGINT");
    assert.equal(await exited, 0);
    const last = out.split("\x1b[2J\x1b[H").pop() ?? "";
    assert.match(last, /^statbox \d+ [\d.]+[KMG]?i?B \/ [\d.]+[KMG]i?B\n$/);
    const once = await store.ok(["stats", "--no-stream", "--format", "{{.Name}}", "statbox"]);
    assert.equal(once.stdout, "statbox\n");
    const missing = await store.berth(["stats", "--no-stream", "nosuchbox"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: nosuchbox/);
    await store.ok(["rm", "-f", "statbox"]);
  });
});
