/**
 * Which firewall rules and chains the bench's peers added to the host: from `iptables -S` of one
 * table before dockerd/Podman ran and after, the rules to delete (as `iptables -D` arguments) and
 * the chains to flush and delete. Only what is new since before and belongs to a peer: a chain
 * named DOCKER… or NETAVARK…, a rule in a built-in or other chain that jumps to one of those new
 * chains or names a peer's bridge device. Pure: no host access.
 */

/** Firewall chains a peer makes: dockerd's and netavark's (Podman 4.3's network backend). */
export const PEER_CHAIN = /^(DOCKER|NETAVARK)/;
/** Bridge devices a peer makes on its default network. */
export const PEER_LINKS: readonly string[] = ["docker0", "podman0", "cni-podman0"];

/** The arguments of one `iptables -S` line after its -A/-N: only comments are quoted there. */
export function ruleArgs(line: string): string[] {
  return [...line.replace(/^-[AN] /, "").matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
}

export interface Leavings {
  /** `-D` arguments of each rule to delete (chain first), in order. */
  readonly rules: string[][];
  /** Chains to flush, then delete. */
  readonly chains: string[];
}

export function peerLeavings(before: ReadonlySet<string>, now: readonly string[]): Leavings {
  const chains = now
    .filter((l) => l.startsWith("-N ") && !before.has(l))
    .map((l) => l.slice(3))
    .filter((c) => PEER_CHAIN.test(c));
  const mentions = (args: readonly string[]) =>
    args.some((a, i) => {
      const prev = args[i - 1];
      return (
        (prev === "-j" && chains.includes(a)) || ((prev === "-i" || prev === "-o") && PEER_LINKS.includes(a))
      );
    });
  const rules: string[][] = [];
  for (const l of now) {
    if (!l.startsWith("-A ") || before.has(l)) continue;
    const args = ruleArgs(l);
    if (chains.includes(args[0] ?? "")) continue; // goes with its chain
    if (mentions(args)) rules.push(args);
  }
  return { rules, chains };
}
