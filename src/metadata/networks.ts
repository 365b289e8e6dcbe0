/**
 * Network records, container endpoints and published host ports. A network is created complete
 * in one statement; an endpoint row exists from the container's create (or `network connect`)
 * and carries runtime columns while the container is attached; published ports exist only while
 * attached. Removing a container removes its endpoints and ports (ON DELETE CASCADE) — the
 * network service tears the attachment down before that.
 * It stores what it is given; it never sets anything up on the host (network/ does).
 */
import { jsonRecord, num, Queries, type Row, str } from "./rows.js";

export interface NetworkRecord {
  readonly id: string;
  readonly name: string;
  /** bridge, host or null. */
  readonly driver: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
  /** Containers resolve each other by name (user-defined bridge networks). */
  readonly dns: boolean;
  readonly predefined: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  readonly created: string;
}

export type EndpointState = "" | "attaching" | "attached";

export interface EndpointRecord {
  readonly containerId: string;
  readonly networkId: string;
  readonly idx: number;
  readonly endpointId: string;
  readonly aliases: readonly string[];
  readonly ipv4Request: string;
  readonly state: EndpointState;
  readonly ifname: string;
  readonly address: string;
  readonly gateway: string;
  readonly mac: string;
  readonly result: string;
  readonly ownerPid: number;
  readonly updatedAt: number;
}

export interface PublishedPort {
  readonly containerId: string;
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly proto: string;
}

function stringList(row: Row, col: string): string[] {
  const v: unknown = JSON.parse(str(row, col));
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function networkFromRow(row: Row): NetworkRecord {
  return {
    id: str(row, "id"),
    name: str(row, "name"),
    driver: str(row, "driver"),
    bridge: str(row, "bridge"),
    subnet: str(row, "subnet"),
    gateway: str(row, "gateway"),
    internal: num(row, "internal") !== 0,
    dns: num(row, "dns") !== 0,
    predefined: num(row, "predefined") !== 0,
    labels: jsonRecord(row, "labels"),
    options: jsonRecord(row, "options"),
    created: str(row, "created"),
  };
}

function endpointFromRow(row: Row): EndpointRecord {
  const state = str(row, "state");
  return {
    containerId: str(row, "container_id"),
    networkId: str(row, "network_id"),
    idx: num(row, "idx"),
    endpointId: str(row, "endpoint_id"),
    aliases: stringList(row, "aliases"),
    ipv4Request: str(row, "ipv4_request"),
    state: state === "attaching" || state === "attached" ? state : "",
    ifname: str(row, "ifname"),
    address: str(row, "address"),
    gateway: str(row, "gateway"),
    mac: str(row, "mac"),
    result: str(row, "result"),
    ownerPid: num(row, "owner_pid"),
    updatedAt: num(row, "updated_at"),
  };
}

function portFromRow(row: Row): PublishedPort {
  return {
    containerId: str(row, "container_id"),
    hostIp: str(row, "host_ip"),
    hostPort: num(row, "host_port"),
    containerPort: num(row, "container_port"),
    proto: str(row, "proto"),
  };
}

export class NetworkMetadata extends Queries {
  // ---- networks

  insertNetwork(n: NetworkRecord): boolean {
    return (
      this.run(
        `INSERT OR IGNORE INTO networks (id, name, driver, bridge, subnet, gateway, internal, dns, predefined, labels, options, created)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        n.id,
        n.name,
        n.driver,
        n.bridge,
        n.subnet,
        n.gateway,
        n.internal ? 1 : 0,
        n.dns ? 1 : 0,
        n.predefined ? 1 : 0,
        JSON.stringify(n.labels),
        JSON.stringify(n.options),
        n.created,
      ) > 0
    );
  }

  /** Changes the address plan of a network (the default bridge after a daemon.json change). */
  updateAddressing(id: string, a: { bridge: string; subnet: string; gateway: string }): void {
    this.run(
      "UPDATE networks SET bridge = ?, subnet = ?, gateway = ? WHERE id = ?",
      a.bridge,
      a.subnet,
      a.gateway,
      id,
    );
  }

  deleteNetwork(id: string): void {
    this.run("DELETE FROM networks WHERE id = ?", id);
  }

  getNetwork(id: string): NetworkRecord | undefined {
    const r = this.one("SELECT * FROM networks WHERE id = ?", id);
    return r ? networkFromRow(r) : undefined;
  }

  networkByName(name: string): NetworkRecord | undefined {
    const r = this.one("SELECT * FROM networks WHERE name = ?", name);
    return r ? networkFromRow(r) : undefined;
  }

  networkIdsByPrefix(prefix: string): string[] {
    return this.all("SELECT id FROM networks WHERE substr(id, 1, ?) = ?", prefix.length, prefix).map((r) =>
      str(r, "id"),
    );
  }

  listNetworks(): NetworkRecord[] {
    return this.all("SELECT * FROM networks ORDER BY created, name").map(networkFromRow);
  }

  // ---- endpoints

  insertEndpoint(
    e: Pick<EndpointRecord, "containerId" | "networkId" | "endpointId" | "aliases" | "ipv4Request">,
  ): boolean {
    const next = this.one(
      "SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM endpoints WHERE container_id = ?",
      e.containerId,
    );
    return (
      this.run(
        `INSERT OR IGNORE INTO endpoints (container_id, network_id, idx, endpoint_id, aliases, ipv4_request)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.containerId,
        e.networkId,
        next ? num(next, "n") : 0,
        e.endpointId,
        JSON.stringify(e.aliases),
        e.ipv4Request,
      ) > 0
    );
  }

  deleteEndpoint(containerId: string, networkId: string): void {
    this.run("DELETE FROM endpoints WHERE container_id = ? AND network_id = ?", containerId, networkId);
  }

  endpointsOf(containerId: string): EndpointRecord[] {
    return this.all("SELECT * FROM endpoints WHERE container_id = ? ORDER BY idx", containerId).map(
      endpointFromRow,
    );
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    return this.all("SELECT * FROM endpoints WHERE network_id = ? ORDER BY container_id", networkId).map(
      endpointFromRow,
    );
  }

  /** Endpoints with runtime state (attaching or attached), every container. */
  activeEndpoints(): EndpointRecord[] {
    return this.all("SELECT * FROM endpoints WHERE state != '' ORDER BY container_id, idx").map(
      endpointFromRow,
    );
  }

  markAttaching(
    containerId: string,
    networkId: string,
    a: { ifname: string; ownerPid: number; at: number },
  ): void {
    this.run(
      `UPDATE endpoints SET state = 'attaching', ifname = ?, owner_pid = ?, updated_at = ?, address = '', gateway = '', mac = '', result = ''
       WHERE container_id = ? AND network_id = ?`,
      a.ifname,
      a.ownerPid,
      a.at,
      containerId,
      networkId,
    );
  }

  /** Records what the CNI ADD gave (possibly an intermediate result) and whether it is complete. */
  recordAttachment(
    containerId: string,
    networkId: string,
    a: { address: string; gateway: string; mac: string; result: string; done: boolean },
  ): void {
    this.run(
      `UPDATE endpoints SET address = ?, gateway = ?, mac = ?, result = ?, state = CASE WHEN ? THEN 'attached' ELSE state END
       WHERE container_id = ? AND network_id = ?`,
      a.address,
      a.gateway,
      a.mac,
      a.result,
      a.done ? 1 : 0,
      containerId,
      networkId,
    );
  }

  clearAttachment(containerId: string, networkId: string): void {
    this.run(
      `UPDATE endpoints SET state = '', ifname = '', address = '', gateway = '', mac = '', result = '', owner_pid = 0
       WHERE container_id = ? AND network_id = ?`,
      containerId,
      networkId,
    );
  }

  // ---- published ports

  insertPort(p: PublishedPort): void {
    this.run(
      "INSERT OR REPLACE INTO published_ports (container_id, host_ip, host_port, container_port, proto) VALUES (?, ?, ?, ?, ?)",
      p.containerId,
      p.hostIp,
      p.hostPort,
      p.containerPort,
      p.proto,
    );
  }

  portsOf(containerId: string): PublishedPort[] {
    return this.all(
      "SELECT * FROM published_ports WHERE container_id = ? ORDER BY container_port, proto, host_ip",
      containerId,
    ).map(portFromRow);
  }

  portsUsing(hostPort: number, proto: string): PublishedPort[] {
    return this.all("SELECT * FROM published_ports WHERE host_port = ? AND proto = ?", hostPort, proto).map(
      portFromRow,
    );
  }

  deletePorts(containerId: string): void {
    this.run("DELETE FROM published_ports WHERE container_id = ?", containerId);
  }
}
