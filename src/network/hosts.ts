/**
 * /etc/hosts and /etc/resolv.conf as Docker writes them for a container (pure: the caller reads
 * the host's resolv.conf and writes the results).
 */

const DEFAULT_HOSTS = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

export interface HostsInput {
  readonly hostname: string;
  readonly domainname?: string;
  /** The container's address on its first network ("" when it has none). */
  readonly ip: string;
  /** `--add-host` entries, `name:ip` (`host-gateway` as ip means the default bridge's gateway). */
  readonly extraHosts: readonly string[];
  readonly hostGateway: string;
}

/** `name:ip` → [name, ip]; the ip may be IPv6 (`name:::1` or `name:[::1]`). */
export function parseExtraHost(entry: string): [string, string] | undefined {
  const i = entry.indexOf(":");
  if (i <= 0) return undefined;
  let ip = entry.slice(i + 1);
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  if (ip === "") return undefined;
  return [entry.slice(0, i), ip];
}

/**
 * The names of the container's own line, as Docker writes them: the FQDN (hostname, plus
 * `.domainname` when set), then its first label when the FQDN has a dot (`a.example.com a`).
 */
export function hostNames(hostname: string, domainname?: string): string {
  const fqdn = domainname ? `${hostname}.${domainname}` : hostname;
  const dot = fqdn.indexOf(".");
  return dot > 0 ? `${fqdn} ${fqdn.slice(0, dot)}` : fqdn;
}

export function hostsFile(input: HostsInput): string {
  const lines = [...DEFAULT_HOSTS];
  for (const e of input.extraHosts) {
    const parsed = parseExtraHost(e);
    if (!parsed) continue;
    const [name, ip] = parsed;
    lines.push(`${ip === "host-gateway" ? input.hostGateway : ip}\t${name}`);
  }
  if (input.ip !== "") lines.push(`${input.ip}\t${hostNames(input.hostname, input.domainname)}`);
  return `${lines.join("\n")}\n`;
}

export interface ResolvInput {
  /** The host's /etc/resolv.conf. */
  readonly host: string;
  /** Nameservers the container must use instead (a user network's DNS at its gateway): adds `ndots:0`. */
  readonly nameservers?: readonly string[];
  readonly dns: readonly string[];
  readonly dnsSearch: readonly string[];
  readonly dnsOptions: readonly string[];
}

/** Docker's fallback when the host has no nameserver a container can reach. */
const FALLBACK_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

export function resolvConf(input: ResolvInput): string {
  const hostLines = input.host.split("\n");
  const hostNs: string[] = [];
  let search: string[] = [];
  let options: string[] = [];
  for (const l of hostLines) {
    const f = l.trim().split(/\s+/);
    if (f[0] === "nameserver" && f[1]) hostNs.push(f[1]);
    else if (f[0] === "search" || f[0] === "domain") search = f.slice(1);
    else if (f[0] === "options") options = f.slice(1);
  }
  // Loopback resolvers of the host are unreachable from the container's own namespace.
  const reachable = hostNs.filter((n) => !/^(127\.|::1$)/.test(n));
  let ns: readonly string[];
  if (input.nameservers && input.nameservers.length > 0) ns = input.nameservers;
  else if (input.dns.length > 0) ns = input.dns;
  else ns = reachable.length > 0 ? reachable : FALLBACK_NAMESERVERS;
  if (input.dnsSearch.length > 0) search = input.dnsSearch.filter((s) => s !== ".");
  if (input.dnsOptions.length > 0) options = [...input.dnsOptions];
  // With the network's DNS server, Docker adds ndots:0 unless an ndots option is given: a
  // single-label name (another container's) is asked as it is first, not first with each search
  // domain appended, which the server would forward to the host's resolvers and wait for.
  if (input.nameservers && input.nameservers.length > 0 && !options.some((o) => o.startsWith("ndots:")))
    options.push("ndots:0");
  const out: string[] = [];
  if (search.length > 0) out.push(`search ${search.join(" ")}`);
  for (const n of ns) out.push(`nameserver ${n}`);
  if (options.length > 0) out.push(`options ${options.join(" ")}`);
  return `${out.join("\n")}\n`;
}
