import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

/**
 * A Nutanix Prism Central simulator: `POST /api/nutanix/v3/{vms,clusters,subnets}/list` with the real
 * v3 request and response shapes (offset/length paging, total_matches, at most 500 per page), the v1
 * VM stats list (`GET /PrismGateway/services/rest/v1/vms?page=&count=`), HTTP basic auth (401 with a
 * v3 error body on bad credentials) and a fault mode answering 503. The inventory is generated
 * deterministically from `seed`, so two simulators with the same options serve the same entities.
 */
export interface PrismSimulatorOptions {
  seed?: number;
  clusters?: number;
  vms?: number;
  subnets?: number;
  username?: string;
  password?: string;
  /** Indexes of VMs served with an empty name (which cloud-service refuses: per-item errors). */
  nameless?: number[];
  /** Serve https with this key and certificate (PEM) instead of plain http. */
  tls?: { key: string; cert: string };
  /** The port to listen on (127.0.0.1); default a free one. */
  port?: number;
}

export interface PrismSimulator {
  url: string;
  username: string;
  password: string;
  clusters: SimCluster[];
  subnets: SimSubnet[];
  vms: SimVm[];
  /** Data disks (CD-ROMs excluded) across all VMs. */
  diskCount: number;
  /** Requests answered, by path. */
  requests: Map<string, number>;
  /** "unavailable": every API call answers 503 until set back to "none". */
  fault: "none" | "unavailable";
  /** Delay before every answer, to make a collection slow enough to cancel. */
  latencyMs: number;
  close(): Promise<void>;
}

type Ref = { kind: string; uuid: string; name: string };
export type SimCluster = ReturnType<typeof makeCluster>;
export type SimSubnet = ReturnType<typeof makeSubnet>;
export type SimVm = ReturnType<typeof makeVm>;

export async function startPrismSimulator(options: PrismSimulatorOptions = {}): Promise<PrismSimulator> {
  const random = mulberry32(options.seed ?? 42);
  const uuid = () => uuidFrom(random);
  const clusters = Array.from({ length: options.clusters ?? 2 }, (_, i) => makeCluster(i, uuid, random));
  const subnets = Array.from({ length: options.subnets ?? 3 }, (_, i) => makeSubnet(i, uuid, clusters[i % clusters.length]));
  const vms = Array.from({ length: options.vms ?? 25 }, (_, i) => makeVm(i, uuid, random, clusters[i % clusters.length], subnets));
  for (const i of options.nameless ?? []) if (vms[i]) vms[i].spec.name = "";
  const username = options.username ?? "admin";
  const password = options.password ?? "Nutanix/4u";
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const lists: Record<string, { kind: string; entities: unknown[] }> = {
    "/api/nutanix/v3/vms/list": { kind: "vm", entities: vms.map(({ simulatedStats: _stats, ...entity }) => entity) },
    "/api/nutanix/v3/clusters/list": { kind: "cluster", entities: clusters },
    "/api/nutanix/v3/subnets/list": { kind: "subnet", entities: subnets },
  };

  const sim: PrismSimulator = {
    url: "",
    username,
    password,
    clusters,
    subnets,
    vms,
    diskCount: vms.reduce((n, vm) => n + vm.spec.resources.disk_list.filter((d) => d.device_properties.device_type === "DISK").length, 0),
    requests: new Map(),
    fault: "none",
    latencyMs: 0,
    close: async () => {},
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const v3Error = (code: number, message: string, kind = "") => ({ api_version: "3.1", code, kind, state: "ERROR", message_list: [{ message, reason: message.toUpperCase().replace(/\W+/g, "_") }] });

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://sim");
    sim.requests.set(url.pathname, (sim.requests.get(url.pathname) ?? 0) + 1);
    if (sim.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, sim.latencyMs));
    if (sim.fault === "unavailable") return send(res, 503, v3Error(503, "Service Unavailable"));
    if (req.headers.authorization !== expected) return send(res, 401, v3Error(401, "Authentication required."));
    const list = lists[url.pathname];
    if (list && req.method === "POST") {
      let request: { kind?: string; offset?: number; length?: number };
      try {
        request = JSON.parse(body || "{}");
      } catch {
        return send(res, 400, v3Error(400, "Request could not be processed."));
      }
      if (request.kind !== list.kind) return send(res, 422, v3Error(422, `kind must be ${list.kind}`, list.kind));
      const offset = request.offset ?? 0;
      const length = Math.min(request.length ?? 20, 500);
      if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 1) return send(res, 422, v3Error(422, "Invalid offset or length", list.kind));
      const entities = list.entities.slice(offset, offset + length);
      return send(res, 200, { api_version: "3.1", metadata: { total_matches: list.entities.length, length: entities.length, offset, kind: list.kind }, entities });
    }
    if (url.pathname === "/PrismGateway/services/rest/v1/vms" && req.method === "GET") {
      const page = Number(url.searchParams.get("page") ?? 1);
      const count = Number(url.searchParams.get("count") ?? 100);
      const entities = vms.slice((page - 1) * count, page * count).map((vm) => ({ uuid: vm.metadata.uuid, vmName: vm.spec.name, stats: vm.simulatedStats }));
      return send(res, 200, { metadata: { grandTotalEntities: vms.length, totalEntities: vms.length, count: entities.length, page }, entities });
    }
    return send(res, 404, v3Error(404, `No such endpoint ${url.pathname}`));
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  sim.url = `${options.tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sim.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return sim;
}

function makeCluster(i: number, uuid: () => string, random: () => number) {
  const nodes = 3 + Math.floor(random() * 3);
  const name = `cluster-${i === 0 ? "prod" : "dev"}-${String(i + 1).padStart(2, "0")}`;
  return {
    metadata: { kind: "cluster", uuid: uuid(), spec_version: 0, creation_time: "2023-01-10T08:00:00Z", last_update_time: "2024-01-10T08:00:00Z" },
    spec: { name, resources: {} },
    status: {
      name,
      state: "COMPLETE",
      resources: {
        nodes: { hypervisor_server_list: Array.from({ length: nodes }, (_, n) => ({ ip: `10.${i}.0.${n + 10}`, type: "AHV", version: "el7.nutanix.20220304.342" })) },
        config: { service_list: ["AOS"], build: { version: "6.5.2" } },
        network: { external_ip: `10.${i}.0.5` },
      },
    },
  };
}

function makeSubnet(i: number, uuid: () => string, cluster: SimCluster) {
  const clusterRef: Ref = { kind: "cluster", uuid: cluster.metadata.uuid, name: cluster.spec.name };
  const name = `vlan-${100 + i}`;
  const resources = { subnet_type: "VLAN", vlan_id: 100 + i, vswitch_name: "br0", ip_config: { subnet_ip: `192.168.${i}.0`, prefix_length: 24, default_gateway_ip: `192.168.${i}.1` } };
  return {
    metadata: { kind: "subnet", uuid: uuid(), spec_version: 0, categories: { Environment: i % 2 === 0 ? "Production" : "Development" } },
    spec: { name, cluster_reference: clusterRef, resources },
    status: { name, state: "COMPLETE", cluster_reference: clusterRef, resources },
  };
}

function makeVm(i: number, uuid: () => string, random: () => number, cluster: SimCluster, subnets: SimSubnet[]) {
  const vmUuid = uuid();
  const sockets = 1 + Math.floor(random() * 4);
  const perSocket = [1, 2, 4][Math.floor(random() * 3)];
  const memoryMib = 1024 * [2, 4, 8, 16, 32][Math.floor(random() * 5)];
  const powerState = random() < 0.8 ? "ON" : "OFF";
  const diskCount = 1 + Math.floor(random() * 3);
  const disks = Array.from({ length: diskCount }, (_, d) => ({
    uuid: uuid(),
    disk_size_mib: 1024 * [20, 50, 100, 200][Math.floor(random() * 4)],
    disk_size_bytes: 0,
    device_properties: { device_type: "DISK", disk_address: { adapter_type: "SCSI", device_index: d } },
    storage_config: { storage_container_reference: { kind: "storage_container", uuid: cluster.metadata.uuid, name: "default-container" } },
  }));
  for (const disk of disks) disk.disk_size_bytes = disk.disk_size_mib * 1024 * 1024;
  const cdrom = { uuid: uuid(), device_properties: { device_type: "CDROM", disk_address: { adapter_type: "IDE", device_index: 0 } } };
  const nics = Array.from({ length: 1 + (i % 2) }, (_, n) => {
    const subnet = subnets[(i + n) % subnets.length];
    return {
      uuid: uuid(),
      mac_address: `50:6b:8d:${hex2(i >> 8)}:${hex2(i)}:${hex2(n)}`,
      nic_type: "NORMAL_NIC",
      subnet_reference: { kind: "subnet", uuid: subnet.metadata.uuid, name: subnet.spec.name },
      ip_endpoint_list: [{ ip: `192.168.${(i + n) % subnets.length}.${(i % 250) + 2}`, type: "ASSIGNED" }],
    };
  });
  const clusterRef: Ref = { kind: "cluster", uuid: cluster.metadata.uuid, name: cluster.spec.name };
  const name = `${["web", "db", "app", "cache"][i % 4]}-server-${String(i + 1).padStart(3, "0")}`;
  const resources = {
    num_sockets: sockets,
    num_vcpus_per_socket: perSocket,
    num_threads_per_core: 1,
    memory_size_mib: memoryMib,
    power_state: powerState,
    hypervisor_type: "AHV",
    machine_type: "PC",
    vnuma_config: { num_vnuma_nodes: 0 },
    disk_list: [...disks, cdrom],
    nic_list: nics,
  };
  return {
    metadata: {
      kind: "vm",
      uuid: vmUuid,
      spec_version: 3,
      creation_time: "2023-06-15T08:30:00Z",
      last_update_time: "2024-01-10T14:20:00Z",
      categories: { Environment: i % 3 === 0 ? "Development" : "Production", Owner: "devops-team", CostCenter: `CC-00${1 + (i % 3)}` },
      project_reference: { kind: "project", uuid: "00000000-0000-0000-0000-000000000001", name: "default" },
      owner_reference: { kind: "user", uuid: "00000000-0000-0000-0000-000000000002", name: "admin" },
    },
    spec: { name, description: `simulated VM ${i}`, cluster_reference: clusterRef, resources },
    status: { name, state: "COMPLETE", cluster_reference: clusterRef, resources },
    /** What the v1 stats API reports for this VM (parts per million), not part of the v3 entity. */
    simulatedStats: {
      hypervisor_cpu_usage_ppm: String(powerState === "ON" ? Math.floor(random() * 900_000) + 50_000 : 0),
      "guest.memory_usage_ppm": String(powerState === "ON" ? Math.floor(random() * 800_000) + 100_000 : 0),
      hypervisor_memory_usage_ppm: String(powerState === "ON" ? Math.floor(random() * 800_000) + 100_000 : 0),
    },
  };
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, "0");
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A small seeded PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
