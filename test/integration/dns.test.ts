/**
 * Name resolution on a user network while its membership changes: two containers look each other
 * up without pause, each lookup one query (`nslookup -retry=1`: a query the DNS server drops is a
 * failed lookup, not a slow one), while other containers join and leave — started and removed
 * two at a time by separate berth processes, so the DNS server's reloads race. No lookup may go
 * unanswered, and each new container's name must be answered as soon as `run -d` returns.
 * Docker's embedded DNS behaves so; the bridge's MAC address must not follow its ports either
 * (the containers' ARP entries for the gateway would go stale as ports come and go).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type RunResult, Store } from "./harness.js";

const IMAGE = "berth-test/busybox:dns";
const CYCLES = 8;

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox(IMAGE);
});

after(async () => {
  await store?.cleanup();
});

/** A shell loop that looks `name` up until /tmp/stop exists: `FAIL <output>` per failed lookup, then `DONE <lookups>`. */
function lookupLoop(name: string): string {
  return [
    "n=0",
    "while [ ! -e /tmp/stop ]; do",
    "  n=$((n+1))",
    `  out=$(nslookup -retry=1 -timeout=5 -type=a ${name} 2>&1) || echo "FAIL $(echo $out)"`,
    "done",
    'echo "DONE $n"',
  ].join("\n");
}

function address(inspect: string): string {
  const [c] = JSON.parse(inspect) as [
    { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } },
  ];
  return c.NetworkSettings.Networks.dnsnet?.IPAddress ?? "";
}

describe("DNS on a user network while containers join and leave", () => {
  test("every lookup of an existing name is answered; a new name is answered once run returns", async () => {
    await store.ok(["network", "create", "dnsnet"]);
    for (const n of ["peer-a", "peer-b"])
      await store.ok(["run", "-d", "--name", n, "--network", "dnsnet", IMAGE, "sleep", "100000"]);
    const loops: Promise<RunResult>[] = [
      store.berth(["exec", "peer-a", "sh", "-c", lookupLoop("peer-b")]),
      store.berth(["exec", "peer-b", "sh", "-c", lookupLoop("peer-a")]),
    ];
    let joined = 0;
    try {
      for (let i = 0; i < CYCLES; i++) {
        const names = [`joiner-${i}-x`, `joiner-${i}-y`];
        await Promise.all(
          names.map((n) =>
            store.ok(["run", "-d", "--name", n, "--network", "dnsnet", IMAGE, "sleep", "100000"]),
          ),
        );
        joined += names.length;
        for (const n of names) {
          const ip = address((await store.ok(["inspect", n])).stdout);
          const r = await store.berth(["exec", "peer-a", "nslookup", "-retry=1", "-timeout=5", "-type=a", n]);
          assert.equal(r.code, 0, `${n} was not answered right after it started:\n${r.stdout}${r.stderr}`);
          assert.match(r.stdout, new RegExp(`Address: ${ip.replaceAll(".", "\\.")}\\n`));
        }
        await Promise.all(names.map((n) => store.ok(["rm", "-f", n])));
      }
    } finally {
      for (const n of ["peer-a", "peer-b"]) await store.berth(["exec", n, "touch", "/tmp/stop"]);
    }
    assert.equal(joined, 2 * CYCLES);
    for (const [i, r] of (await Promise.all(loops)).entries()) {
      const who = i === 0 ? "peer-a" : "peer-b";
      assert.equal(r.code, 0, r.stderr);
      const fails = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
      assert.deepEqual(fails, [], `${who}: ${fails.length} lookups unanswered`);
      const done = /^DONE (\d+)$/m.exec(r.stdout);
      assert.ok(done, r.stdout);
      // The loop kept asking while the containers came and went (its lookups take milliseconds).
      assert.ok(Number(done[1]) >= 4 * CYCLES, `${who} looked up only ${done[1]} times`);
    }
    // A removed container's name is gone.
    const gone = await store.berth([
      "exec",
      "peer-a",
      "nslookup",
      "-retry=1",
      "-timeout=5",
      "-type=a",
      "joiner-0-x",
    ]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stdout, /NXDOMAIN/);
  });
});
