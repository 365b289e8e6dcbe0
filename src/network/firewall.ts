/**
 * The firewall rules of a bridge network, as `iptables-restore --noflush` input. They are static:
 * written once when the bridge is set up (not per container), in two chains of the bridge's own
 * (`BERTH-<bridge>` in the filter and nat tables), each reached by one jump from the built-in
 * chain. Declaring a chain in restore input creates it or empties it, so writing the rules again
 * replaces them whole, and the rules of other bridges, other stores, Docker or Podman are never
 * touched. They match only this bridge's device and subnet:
 *
 * - filter: replies to the bridge's containers are accepted, traffic from them too (the host's
 *   FORWARD policy may be DROP, as Docker sets it); an internal network's traffic stays on its
 *   bridge.
 * - nat: traffic from the subnet leaving through another device is masqueraded (none for an
 *   internal network).
 *
 * Pure: builds and reads text; `bridge.ts` runs the programs.
 */

export interface BridgeRules {
  readonly bridge: string;
  /** CIDR: `172.18.0.0/16`. */
  readonly subnet: string;
  readonly internal: boolean;
}

/** The chain of a bridge's rules (at most 28 characters: a device name is at most 15). */
export function chainOf(bridge: string): string {
  return `BERTH-${bridge}`;
}

/** The jumps into a bridge's chains, as iptables-save prints them (table → rule spec). */
function jumps(r: BridgeRules): { filter: string; nat: string } {
  const chain = chainOf(r.bridge);
  return { filter: `-A FORWARD -j ${chain}`, nat: `-A POSTROUTING -s ${r.subnet} -j ${chain}` };
}

/** The tables and chains an `iptables-save` dump shows: table → set of rule lines and chains. */
export interface IptablesDump {
  readonly rules: ReadonlyMap<string, ReadonlySet<string>>;
  readonly chains: ReadonlyMap<string, ReadonlySet<string>>;
}

export function parseIptablesSave(text: string): IptablesDump {
  const rules = new Map<string, Set<string>>();
  const chains = new Map<string, Set<string>>();
  let table = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) {
      table = line.slice(1).trim();
      rules.set(table, new Set());
      chains.set(table, new Set());
    } else if (line.startsWith(":")) chains.get(table)?.add(line.slice(1).split(" ")[0] ?? "");
    else if (line.startsWith("-A ")) rules.get(table)?.add(line.trim());
  }
  return { rules, chains };
}

/**
 * Restore input that (re)writes a bridge's chains and adds the jumps the dump lacks. Jumps of the
 * same chain with another subnet (an earlier address of the bridge) are deleted.
 */
export function setupRules(r: BridgeRules, dump: IptablesDump): string {
  const chain = chainOf(r.bridge);
  const j = jumps(r);
  const filter = [
    "*filter",
    `:${chain} - [0:0]`,
    ...(r.internal
      ? [
          `-A ${chain} -i ${r.bridge} -o ${r.bridge} -j ACCEPT`,
          `-A ${chain} -i ${r.bridge} -j DROP`,
          `-A ${chain} -o ${r.bridge} -j DROP`,
        ]
      : [
          `-A ${chain} -o ${r.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
          `-A ${chain} -i ${r.bridge} -j ACCEPT`,
        ]),
    ...(dump.rules.get("filter")?.has(j.filter) ? [] : [`-I FORWARD 1 -j ${chain}`]),
    "COMMIT",
  ];
  const natRules = dump.rules.get("nat") ?? new Set<string>();
  const stale = [...natRules].filter(
    (l) => l.startsWith("-A POSTROUTING ") && l.endsWith(` -j ${chain}`) && l !== j.nat,
  );
  const nat = [
    "*nat",
    `:${chain} - [0:0]`,
    ...(r.internal ? [] : [`-A ${chain} ! -o ${r.bridge} -j MASQUERADE`]),
    ...stale.map((l) => `-D ${l.slice(3)}`),
    ...(natRules.has(j.nat) ? [] : [`-A POSTROUTING -s ${r.subnet} -j ${chain}`]),
    "COMMIT",
  ];
  return `${[...filter, ...nat].join("\n")}\n`;
}

/** Restore input that removes a bridge's jumps and chains (whatever subnet they were for). */
export function teardownRules(bridge: string, dump: IptablesDump): string {
  const chain = chainOf(bridge);
  const out: string[] = [];
  for (const table of ["filter", "nat"]) {
    const lines = [...(dump.rules.get(table) ?? [])].filter((l) => l.endsWith(` -j ${chain}`));
    const has = dump.chains.get(table)?.has(chain) ?? false;
    if (lines.length === 0 && !has) continue;
    out.push(`*${table}`, ...lines.map((l) => `-D ${l.slice(3)}`));
    if (has) out.push(`-F ${chain}`, `-X ${chain}`);
    out.push("COMMIT");
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

/**
 * The nftables table that leads a store's DNS queries to whichever of its two aardvark-dns
 * servers is current (`dns.ts`): `berth_dns_<tag>`, one per store on the host.
 */
export function dnsTableOf(tag: string): string {
  return `berth_dns_${tag}`;
}

/** The two ports the store's servers listen on at each gateway. */
export interface DnsPorts {
  readonly current: number;
  readonly all: readonly number[];
}

/**
 * `nft -f` input that replaces the table whole, in one transaction, so that port 53 of each
 * gateway leads to `ports.current` of the same address. The rewriting is stateless, packet by
 * packet, before conntrack (priority raw, and the packets are not tracked): a client that sends
 * its queries from one socket — one flow — reaches the current server with each of them, which a
 * conntrack-based DNAT would not do (a flow keeps the translation of its first packet). Answers
 * of either server leave from port 53, so those of the previous server to queries it had before
 * the change still reach their clients. Queries of the host's own programs go the same way.
 */
export function dnsTable(table: string, gateways: readonly string[], ports: DnsPorts): string {
  const lines = [`table ip ${table}`, `delete table ip ${table}`];
  if (gateways.length === 0) return `${lines.join("\n")}\n`;
  const set = gateways.length === 1 ? gateways[0] : `{ ${gateways.join(", ")} }`;
  const query = `ip daddr ${set} udp dport 53 notrack udp dport set ${ports.current}`;
  lines.push(
    `table ip ${table} {`,
    "  chain prerouting {",
    "    type filter hook prerouting priority raw; policy accept;",
    `    ${query}`,
    "  }",
    "  chain output {",
    "    type filter hook output priority raw; policy accept;",
    `    ${query}`,
    `    ip saddr ${set} udp sport { ${ports.all.join(", ")} } notrack udp sport set 53`,
    "  }",
    "}",
  );
  return `${lines.join("\n")}\n`;
}
