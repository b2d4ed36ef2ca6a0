
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionFromSecret, createLogger, dailyVmCost, DEFAULT_COST_MODEL, PrismClient, PrismError, settingsFrom, vmToDisks, vmToInstance, type V3Vm } from "../../plugins/collector-nutanix/src/index";
import { startPrismSimulator, type PrismSimulator } from "../support/prism-simulator";

const logger = createLogger("silent");
let sim: PrismSimulator;

beforeAll(async () => {
  sim = await startPrismSimulator({ seed: 7, clusters: 2, vms: 23, subnets: 4 });
});
afterAll(() => sim?.close());

const secret = (overrides: Record<string, string | number | boolean> = {}) => ({ nutanix_host: "prism.nutanix.local", nutanix_username: sim.username, nutanix_password: sim.password, verify_ssl: false, ...overrides });
const client = (options: ConstructorParameters<typeof PrismClient>[1] | object = {}, creds = secret()) => new PrismClient(connectionFromSecret(creds, sim.url), { logger, retry: { baseDelayMs: 1 }, ...options });

describe("connection from the secret", () => {
  it("defaults the port to 9440 over https and honours an http(s) override", () => {
    expect(connectionFromSecret({ nutanix_host: "prism.nutanix.local", nutanix_username: "u", nutanix_password: "p" })).toEqual({ baseUrl: "https://prism.nutanix.local:9440", username: "u", password: "p", verifySsl: true });
    expect(connectionFromSecret({ nutanix_host: "prism.local", nutanix_port: 443, nutanix_username: "u", nutanix_password: "p", verify_ssl: false }).baseUrl).toBe("https://prism.local:443");
    expect(connectionFromSecret({ nutanix_host: "http://127.0.0.1:1234", nutanix_username: "u", nutanix_password: "p" }).baseUrl).toBe("http://127.0.0.1:1234");
    expect(connectionFromSecret(secret(), "http://127.0.0.1:9/x").baseUrl).toBe("http://127.0.0.1:9");
  });

  it("rejects a secret without credentials or with a bad port as ERROR_INVALID_PARAMETER", () => {
    expect(() => connectionFromSecret({ nutanix_host: "h", nutanix_password: "p" })).toThrow(expect.objectContaining({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "nutanix_username" } }));
    expect(() => connectionFromSecret({ nutanix_host: "h", nutanix_username: "u", nutanix_password: "p", nutanix_port: 70000 })).toThrow(expect.objectContaining({ code: "ERROR_INVALID_PARAMETER" }));
    expect(() => settingsFrom({ page_size: 0 })).toThrow(expect.objectContaining({ code: "ERROR_INVALID_PARAMETER" }));
    expect(() => settingsFrom({ include_resources: ["compute.Nope"] })).toThrow(expect.objectContaining({ code: "ERROR_INVALID_PARAMETER" }));
  });
});

describe("Prism v3 lists", () => {
  it("pages by offset/length until total_matches, with the real v3 shapes", async () => {
    const prism = client({ pageSize: 5 });
    const before = sim.requests.get("/api/nutanix/v3/vms/list") ?? 0;
    const vms = await prism.listVms();
    expect(vms).toHaveLength(23);
    expect(new Set(vms.map((vm) => vm.metadata.uuid)).size).toBe(23);
    expect((sim.requests.get("/api/nutanix/v3/vms/list") ?? 0) - before).toBe(5);
    expect(vms[0]).toMatchObject({ metadata: { kind: "vm", uuid: sim.vms[0].metadata.uuid }, spec: { name: "web-server-001", resources: { power_state: expect.any(String) } }, status: { state: "COMPLETE" } });
    expect(vms[0]).not.toHaveProperty("simulatedStats");
    const page = await prism.listPage("cluster", 0, 1);
    expect(page).toEqual({ api_version: "3.1", metadata: { total_matches: 2, length: 1, offset: 0, kind: "cluster" }, entities: [sim.clusters[0]] });
    expect(await prism.listSubnets()).toHaveLength(4);
    expect((await prism.vmStats()).size).toBe(23);
    prism.close();
  });

  it("a rejected login is ERROR_AUTHENTICATE_FAILURE (AUTH_ERROR), not retried, not counted by the breaker", async () => {
    const prism = client({ breaker: { failureThreshold: 1 } }, secret({ nutanix_password: "wrong" }));
    const err = await prism.verify().then(() => expect.fail("expected an error"), (e: unknown) => e);
    expect(PrismError.isPrismError(err)).toBe(true);
    expect(err).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", category: "AUTH_ERROR", httpStatus: 401 });
    expect((err as Error).message).toContain("Invalid Prism credentials");
    expect(prism.attempts).toBe(1);
    expect(prism.breakerState).toBe("closed");
    prism.close();
  });

  it("retries 503s with backoff, then the breaker opens and fails fast", async () => {
    sim.fault = "unavailable";
    try {
      const prism = client({ retry: { maxAttempts: 3, baseDelayMs: 1 }, breaker: { failureThreshold: 5, resetTimeoutMs: 60_000 } });
      const first = await prism.verify().then(() => expect.fail("expected an error"), (e: unknown) => e);
      expect(first).toMatchObject({ code: "ERROR_SERVICE_UNAVAILABLE", category: "TRANSIENT_ERROR", httpStatus: 503 });
      expect(prism.attempts).toBe(3);
      expect(prism.breakerState).toBe("closed");
      const second = await prism.verify().then(() => expect.fail("expected an error"), (e: unknown) => e);
      expect(prism.breakerState).toBe("open");
      expect(prism.attempts).toBe(5);
      expect((second as Error).message).toMatch(/circuit breaker is open after 5 consecutive failures; failing fast; last failure: Nutanix Prism unavailable \(Prism \/api\/nutanix\/v3\/clusters\/list answered HTTP 503/);
      const third = await prism.verify().then(() => expect.fail("expected an error"), (e: unknown) => e);
      expect(third).toMatchObject({ code: "ERROR_SERVICE_UNAVAILABLE" });
      expect(prism.attempts).toBe(5);
      prism.close();
    } finally {
      sim.fault = "none";
    }
  });

  it("the breaker half-opens after its reset timeout and closes on a healthy answer", async () => {
    sim.fault = "unavailable";
    const prism = client({ retry: { maxAttempts: 1 }, breaker: { failureThreshold: 2, resetTimeoutMs: 150 } });
    await prism.verify().catch(() => {});
    await prism.verify().catch(() => {});
    expect(prism.breakerState).toBe("open");
    sim.fault = "none";
    await new Promise((resolve) => setTimeout(resolve, 250));
    await prism.verify();
    expect(prism.breakerState).toBe("closed");
    prism.close();
  });

  it("an unreachable Prism is ERROR_SERVICE_UNAVAILABLE, transient", async () => {
    const prism = new PrismClient(connectionFromSecret(secret(), "http://127.0.0.1:1"), { logger, retry: { maxAttempts: 2, baseDelayMs: 1 } });
    const err = await prism.verify().then(() => expect.fail("expected an error"), (e: unknown) => e);
    expect(err).toMatchObject({ code: "ERROR_SERVICE_UNAVAILABLE", category: "TRANSIENT_ERROR" });
    expect((err as Error).message).toContain("ECONNREFUSED");
    expect(prism.attempts).toBe(2);
    prism.close();
  });
});

describe("mapping", () => {
  it("a VM becomes the seed's compute.Instance, its data disks compute.Disk", () => {
    const vm = sim.vms[0] as unknown as V3Vm;
    const clusters = new Map(sim.clusters.map((c) => [c.metadata.uuid, c as never]));
    const instance = vmToInstance(vm, { prismUrl: "https://prism.local:9440", account: "sa-1", clusters });
    const r = vm.spec.resources;
    const dataDisks = r.disk_list!.filter((d) => d.device_properties?.device_type === "DISK");
    expect(instance).toEqual({
      cloud_service_type: "compute.Instance",
      cloud_service_group: "Nutanix",
      cloud_service_name: "web-server-001",
      provider: "nutanix",
      account: "sa-1",
      data: expect.objectContaining({
        state: r.power_state,
        power_state: r.power_state,
        cpu_cores: r.num_sockets! * r.num_vcpus_per_socket!,
        vcpu_count: r.num_sockets! * r.num_vcpus_per_socket!,
        memory_gb: r.memory_size_mib! / 1024,
        disk_total_gb: dataDisks.reduce((n, d) => n + d.disk_size_mib! / 1024, 0),
        disk_count: dataDisks.length,
        network_interfaces: r.nic_list!.length,
        hypervisor_type: "AHV",
        numa_node_count: 1,
        cluster: "cluster-prod-01",
        nutanix_uuid: vm.metadata.uuid,
        created_at: "2023-06-15T08:30:00Z",
        updated_at: "2024-01-10T14:20:00Z",
        cluster_info: expect.objectContaining({ name: "cluster-prod-01", aos_version: "6.5.2" }),
      }),
      tags: { environment: "Development", owner: "devops-team", costcenter: "CC-001", cluster: "cluster-prod-01" },
      reference: { resource_id: vm.metadata.uuid, external_link: `https://prism.local:9440/console/#page/vm_details/${vm.metadata.uuid}` },
    });
    const disks = vmToDisks(vm, { prismUrl: "https://prism.local:9440", account: "sa-1", clusters });
    expect(disks).toHaveLength(dataDisks.length);
    expect(disks[0]).toMatchObject({ cloud_service_type: "compute.Disk", cloud_service_name: "web-server-001-disk-0", reference: { resource_id: dataDisks[0].uuid }, data: { vm_uuid: vm.metadata.uuid, size_gb: dataDisks[0].disk_size_mib! / 1024 } });
  });

  it("the cost model charges vCPUs and memory while on, disks always", () => {
    expect(dailyVmCost(DEFAULT_COST_MODEL, { vcpus: 8, memoryGb: 32, diskGb: 500, poweredOn: true })).toBe(8.2);
    expect(dailyVmCost(DEFAULT_COST_MODEL, { vcpus: 8, memoryGb: 32, diskGb: 500, poweredOn: false })).toBe(1);
  });
});
