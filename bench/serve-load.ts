/**
 * `node dist/bench/serve-load.js [--clients 50] [--seconds 120]`: many API clients at once
 * against one `berth serve` on a temporary store, each looping create → start → list → stop →
 * remove of its own containers for a fixed time. Prints operations per second, every answer
 * Docker would not give (5xx, or a 4xx other than the ones a racing list can see), the server's
 * peak RSS, and whether anything was left behind. Traffic stays on the server's unix socket.
 */
import { readFile } from "node:fs/promises";
import { Store } from "../test/integration/harness.js";
import { Serve } from "../test/integration/serve-helpers.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

async function peakRssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const clients = arg("clients", 50);
  const seconds = arg("seconds", 120);
  const store = await Store.create();
  let serve: Serve | undefined;
  try {
    await store.busybox();
    serve = await Serve.start(store, ["--log-level", "warn"]);
    const s = serve;
    const pid = s.proc.pid ?? 0;
    const ops = new Map<string, number>();
    const errors: string[] = [];
    const count = (op: string) => ops.set(op, (ops.get(op) ?? 0) + 1);
    const deadline = Date.now() + seconds * 1000;
    const expect = async (op: string, method: string, path: string, ok: number[], body?: string) => {
      const r = await s.request(method, path, body, body ? { "Content-Type": "application/json" } : {});
      if (!ok.includes(r.status)) errors.push(`${op}: ${r.status} ${r.body.trim()}`);
      else count(op);
      return r;
    };
    const started = Date.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let n = 0; Date.now() < deadline; n++) {
          const name = `load-${c}-${n}`;
          const created = await expect(
            "create",
            "POST",
            `/containers/create?name=${name}`,
            [201],
            JSON.stringify({ Image: "busybox", Cmd: ["sleep", "1000"], HostConfig: { NetworkMode: "none" } }),
          );
          if (created.status !== 201) continue;
          const id: string = JSON.parse(created.body).Id;
          await expect("start", "POST", `/containers/${id}/start`, [204]);
          await expect("list", "GET", "/containers/json?all=1", [200]);
          await expect("stop", "POST", `/containers/${id}/stop?t=0`, [204, 304]);
          await expect("remove", "DELETE", `/containers/${id}?force=1`, [204]);
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    const rss = await peakRssKiB(pid);
    const left = JSON.parse((await s.request("GET", "/containers/json?all=1")).body);
    const total = [...ops.values()].reduce((a, b) => a + b, 0);
    const lines = [
      `clients: ${clients}, duration: ${elapsed.toFixed(0)} s`,
      `operations: ${total} (${(total / elapsed).toFixed(1)}/s): ${[...ops].map(([k, v]) => `${k} ${v}`).join(", ")}`,
      `errors Docker would not give: ${errors.length}`,
      ...errors.slice(0, 10).map((e) => `  ${e}`),
      `server peak RSS: ${(rss / 1024).toFixed(1)} MiB`,
      `containers left: ${Array.isArray(left) ? left.length : "?"}`,
      `unhandled failures in the log: ${(s.log.match(/unhandled failure/g) ?? []).length}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    if (errors.length > 0 || (Array.isArray(left) && left.length > 0)) process.exitCode = 1;
  } finally {
    await serve?.stop();
    await store.cleanup();
  }
}

await main();
