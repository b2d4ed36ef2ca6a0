import type { JsonObject } from "@bufbuild/protobuf";
import type { CloudServiceResource } from "@cloudforet/plugin-sdk";
import type { V3Cluster, V3Disk, V3Subnet, V3Vm } from "./prism/types";

export const PROVIDER = "nutanix";
export const GROUP = "Nutanix";
export const RESOURCE_TYPES = ["compute.Instance", "compute.Disk", "compute.Network"] as const;

/** What a VM's mapping needs besides the VM itself. */
export interface MappingContext {
  /** The Prism base URL, for external links. */
  prismUrl: string;
  /** The service account the resources belong to (the resource's `account`). */
  account: string;
  /** Clusters by uuid: their facts travel in the VM's data ("clusters as data"). */
  clusters: Map<string, V3Cluster>;
}

const MIB_PER_GIB = 1024;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** A VM as the seed's compute.Instance. */
export function vmToInstance(vm: V3Vm, ctx: MappingContext): CloudServiceResource {
  const uuid = vm.metadata.uuid;
  const resources = { ...vm.spec.resources, ...(vm.status.resources ?? {}) };
  const clusterRef = vm.status.cluster_reference ?? vm.spec.cluster_reference;
  const cluster = clusterRef ? ctx.clusters.get(clusterRef.uuid) : undefined;
  const clusterName = clusterRef?.name ?? cluster?.spec.name ?? "";
  const disks = dataDisks(resources.disk_list ?? []);
  const vcpus = vcpuCount(vm);
  const powerState = (resources.power_state ?? "UNKNOWN").toUpperCase();
  const data: JsonObject = {
    state: powerState,
    cpu_cores: vcpus,
    memory_gb: round2((resources.memory_size_mib ?? 0) / MIB_PER_GIB),
    disk_total_gb: round2(disks.reduce((sum, d) => sum + diskSizeGb(d), 0)),
    cluster: clusterName,
    created_at: vm.metadata.creation_time ?? null,
    updated_at: vm.metadata.last_update_time ?? null,
    nutanix_uuid: uuid,
    power_state: powerState,
    vcpu_count: vcpus,
    num_sockets: resources.num_sockets ?? 0,
    num_vcpus_per_socket: resources.num_vcpus_per_socket ?? 0,
    numa_node_count: Math.max(1, resources.vnuma_config?.num_vnuma_nodes ?? 1),
    hypervisor_type: resources.hypervisor_type ?? "AHV",
    machine_type: resources.machine_type ?? null,
    network_interfaces: (resources.nic_list ?? []).length,
    disk_count: disks.length,
    ip_addresses: (resources.nic_list ?? []).flatMap((nic) => (nic.ip_endpoint_list ?? []).map((ip) => ip.ip)),
    subnets: (resources.nic_list ?? []).map((nic) => nic.subnet_reference?.name ?? nic.subnet_reference?.uuid ?? "").filter(Boolean),
    cluster_uuid: clusterRef?.uuid ?? null,
    cluster_info: cluster ? clusterData(cluster) : null,
    project: vm.metadata.project_reference?.name ?? null,
    owner: vm.metadata.owner_reference?.name ?? null,
    description: vm.spec.description ?? null,
  };
  return {
    cloud_service_type: "compute.Instance",
    cloud_service_group: GROUP,
    cloud_service_name: vm.spec.name,
    provider: PROVIDER,
    account: ctx.account,
    data,
    tags: { ...tagsOf(vm.metadata.categories), ...(clusterName ? { cluster: clusterName } : {}) },
    reference: { resource_id: uuid, external_link: `${ctx.prismUrl}/console/#page/vm_details/${uuid}` },
  };
}

/** Each data disk of a VM (CD-ROMs left out) as a compute.Disk. */
export function vmToDisks(vm: V3Vm, ctx: MappingContext): CloudServiceResource[] {
  const resources = { ...vm.spec.resources, ...(vm.status.resources ?? {}) };
  const clusterName = (vm.status.cluster_reference ?? vm.spec.cluster_reference)?.name ?? "";
  return dataDisks(resources.disk_list ?? []).map((disk, index) => ({
    cloud_service_type: "compute.Disk",
    cloud_service_group: GROUP,
    cloud_service_name: `${vm.spec.name}-disk-${disk.device_properties?.disk_address?.device_index ?? index}`,
    provider: PROVIDER,
    account: ctx.account,
    data: {
      state: "ATTACHED",
      size_gb: round2(diskSizeGb(disk)),
      device_type: disk.device_properties?.device_type ?? "DISK",
      adapter_type: disk.device_properties?.disk_address?.adapter_type ?? null,
      device_index: disk.device_properties?.disk_address?.device_index ?? index,
      storage_container: disk.storage_config?.storage_container_reference?.name ?? null,
      vm_uuid: vm.metadata.uuid,
      vm_name: vm.spec.name,
      cluster: clusterName,
      nutanix_uuid: disk.uuid,
    },
    tags: { ...tagsOf(vm.metadata.categories), ...(clusterName ? { cluster: clusterName } : {}) },
    reference: { resource_id: disk.uuid, external_link: `${ctx.prismUrl}/console/#page/vm_details/${vm.metadata.uuid}` },
  }));
}

/** A subnet as a compute.Network. */
export function subnetToNetwork(subnet: V3Subnet, ctx: MappingContext): CloudServiceResource {
  const clusterRef = subnet.status.cluster_reference ?? subnet.spec.cluster_reference;
  const clusterName = clusterRef?.name ?? "";
  const r = subnet.spec.resources;
  return {
    cloud_service_type: "compute.Network",
    cloud_service_group: GROUP,
    cloud_service_name: subnet.spec.name,
    provider: PROVIDER,
    account: ctx.account,
    data: {
      state: (subnet.status.state ?? "COMPLETE").toUpperCase(),
      subnet_type: r.subnet_type ?? "VLAN",
      vlan_id: r.vlan_id ?? null,
      vswitch_name: r.vswitch_name ?? null,
      cidr: r.ip_config?.subnet_ip ? `${r.ip_config.subnet_ip}/${r.ip_config.prefix_length ?? 24}` : null,
      default_gateway_ip: r.ip_config?.default_gateway_ip ?? null,
      cluster: clusterName,
      cluster_uuid: clusterRef?.uuid ?? null,
      nutanix_uuid: subnet.metadata.uuid,
    },
    tags: { ...tagsOf(subnet.metadata.categories), ...(clusterName ? { cluster: clusterName } : {}) },
    reference: { resource_id: subnet.metadata.uuid, external_link: `${ctx.prismUrl}/console/#page/network/subnets/${subnet.metadata.uuid}` },
  };
}

/** A cluster's facts, carried in its VMs' data. */
export function clusterData(cluster: V3Cluster): JsonObject {
  const servers = cluster.status.resources?.nodes?.hypervisor_server_list ?? [];
  return {
    name: cluster.spec.name,
    uuid: cluster.metadata.uuid,
    node_count: servers.length,
    hypervisor_types: [...new Set(servers.map((s) => s.type ?? "AHV"))],
    aos_version: cluster.status.resources?.config?.build?.version ?? null,
    external_ip: cluster.status.resources?.network?.external_ip ?? null,
  };
}

export function vcpuCount(vm: V3Vm): number {
  const r = { ...vm.spec.resources, ...(vm.status.resources ?? {}) };
  return (r.num_sockets ?? 1) * (r.num_vcpus_per_socket ?? 1);
}

export function memoryGb(vm: V3Vm): number {
  const r = { ...vm.spec.resources, ...(vm.status.resources ?? {}) };
  return (r.memory_size_mib ?? 0) / MIB_PER_GIB;
}

function dataDisks(disks: V3Disk[]): V3Disk[] {
  return disks.filter((d) => (d.device_properties?.device_type ?? "DISK") === "DISK" && d.uuid);
}

function diskSizeGb(disk: V3Disk): number {
  if (disk.disk_size_mib !== undefined) return disk.disk_size_mib / MIB_PER_GIB;
  return (disk.disk_size_bytes ?? 0) / 1024 ** 3;
}

/** Prism categories ({"Environment": "Production"}) as tags ({environment: "Production"}). */
function tagsOf(categories: Record<string, string> | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(categories ?? {})) tags[key.toLowerCase()] = String(value);
  return tags;
}
